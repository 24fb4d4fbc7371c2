import HarkLog
import HarkSync

/// Epidemic broadcast over the channels that speak it (NodeBroadcast.swift, PROTOCOL.md §6.4).
/// Per-channel acknowledgements due live in the channel's `PeerLink`. Held by `Node`; isolated to it.
struct BroadcastState {
    /// Per group: the broadcast tree over channels (keyed by session ID).
    var broadcasts: [EventID: EpidemicBroadcast<UInt64>] = [:]
    var counters = BroadcastCounters()
}
