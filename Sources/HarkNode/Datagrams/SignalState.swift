import HarkControl
import HarkCrypto
import HarkWireProto
import NIOCore

/// The real-time layer's node-wide state: the UDP socket, this node's presence and the presence
/// last shown per peer (NodeDatagrams.swift, NodePresence.swift). Per-channel datagram keys and
/// heartbeats live in the channel's `PeerLink`. Held by `Node`; isolated to it.
struct SignalState {
    /// The UDP socket for datagrams, if it could be bound.
    var udp: (any Channel)?
    var udpPort: Int = 0
    var udpIsIPv6 = false
    var datagramCounters = DatagramCounters()
    /// This node's presence, sent in heartbeats.
    var ownPresence = (state: Hark_V1_PresenceState.online, statusText: "")
    var presenceSeq: UInt64 = 0
    /// Per peer: the presence last emitted to watchers (absent = offline).
    var lastPresence: [PeerID: PresenceView] = [:]
}
