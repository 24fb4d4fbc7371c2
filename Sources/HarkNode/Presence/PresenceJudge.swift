import HarkWireProto

/// Presence as judged from the transport, not from mDNS record lifetimes (PROTOCOL.md §7.5).
///
/// A peer is online (or away, if its latest heartbeat says so) while at least one channel to
/// one of its devices is open and has heard anything — a heartbeat datagram or any TCP record —
/// within `offlineAfterMs`; otherwise it is offline. Heartbeats go out every
/// `heartbeatIntervalMs` and TCP keepalives every 5 s, so a peer that is killed shows offline
/// as soon as its channel closes, and a partitioned one within `offlineAfterMs` plus one tick.
///
/// Pure: times are milliseconds passed in. Thread-safe (no state).
public enum PresenceJudge {
    /// Interval between heartbeats, ms.
    public static let heartbeatIntervalMs: Int64 = 2_000
    /// A heartbeat after longer than this without a word on the channel (ms) probes it
    /// (`ChannelProbe`): two heartbeats missed and half a second to spare.
    public static let silenceBeforeProbeMs: Int64 = 2 * heartbeatIntervalMs + 500
    /// Silence after which a channel no longer counts as a sign of life, ms.
    public static let offlineAfterMs: Int64 = 7_000

    /// What one open channel tells about its peer device.
    struct Channel: Equatable {
        /// Time since anything arrived on the channel (TCP record or authentic datagram), ms.
        var silenceMs: Int64
        /// The state of the device's latest heartbeat, if one arrived.
        var heartbeat: Hark_V1_PresenceState?
    }

    /// "online", "away" or "offline" for a peer with these open channels (any number of devices).
    static func state(_ channels: [Channel]) -> String {
        let live = channels.filter { $0.silenceMs < offlineAfterMs }
        if live.isEmpty { return "offline" }
        if live.contains(where: { $0.heartbeat != .away }) { return "online" }
        return "away"
    }
}
