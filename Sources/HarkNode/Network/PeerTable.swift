import HarkCrypto
import HarkLog
import HarkSync

/// Everything a node keeps for one authenticated channel, created when the channel opens and
/// dropped in one place when it closes (`PeerTable.remove`). Isolated to `Node`.
struct PeerLink {
    let session: PeerSession
    /// Groups both sides proved to hold.
    var sharedGroups: Set<EventID> = []
    /// Groups we sent our offer tag for.
    var offeredGroups: Set<EventID> = []
    /// Offer tags received that matched none of our groups (yet), 32 B each.
    var unmatchedTags: Set<[UInt8]> = []
    /// Groups whose key the peer proved but in which it is not a member (yet).
    var awaitingMembership: Set<EventID> = []
    /// Per group: the Algorithm 2 reconciliation state (NodeReconciliation.swift).
    var reconciliations: [EventID: ReconciliationSession] = [:]
    /// The task that sends this channel's sync answers from the store (Sync/SyncAnswers.swift).
    var syncAnswerer: SyncAnswerer?
    /// Datagram keys and the peer's UDP address, once both sides announced them (NodeDatagrams.swift).
    var datagram: DatagramPeer?
    /// The peer device's latest heartbeat (NodePresence.swift).
    var heartbeat: Heartbeat?
    /// Per group: a Heads acknowledgement is due; since when (ms, `Node.monoMs`) (NodeBroadcast.swift).
    var pendingAcks: [EventID: Int64] = [:]

    init(session: PeerSession) { self.session = session }
}

/// The node's channels, keyed by session ID (assigned in opening order from 1), the open channel
/// per peer device, and what is known of each peer. Held by `Node`; isolated to it.
struct PeerTable {
    /// The ID the next channel gets.
    var nextID: UInt64 = 1
    /// Open channels and their state.
    var links: [UInt64: PeerLink] = [:]
    /// Open channel per peer device: identity key plus instance token (one identity running on
    /// two machines is two devices, and forks its log).
    var byDevice: [Node.DeviceKey: UInt64] = [:]
    /// Peers we know of: display names, addresses, how found (kept after their channels close).
    var info: [PeerID: Node.PeerInfo] = [:]

    /// The channel with session ID `id`, if open.
    subscript(id: UInt64) -> PeerSession? { links[id]?.session }
    /// Every open channel, in no particular order: a copy, O(channels), so that a loop over it
    /// may change `links` in place (a loop over `links` itself holds its storage, and each change
    /// inside it would copy the whole table).
    var sessions: [PeerSession] { links.values.map(\.session) }
    /// The open channels to `peer` (one per device of that identity), O(channels).
    func sessions(of peer: PeerID) -> [PeerSession] {
        links.values.compactMap { $0.session.peerID == peer ? $0.session : nil }
    }
    /// The open channels' session IDs, in no particular order: a copy, as `sessions`.
    var ids: [UInt64] { Array(links.keys) }
    var count: Int { links.count }

    /// Adds a channel with empty per-channel state.
    mutating func add(_ session: PeerSession) { links[session.id] = PeerLink(session: session) }

    /// Drops a channel and all its per-channel state; returns it, or nil if it was not open.
    /// The caller cancels what the link ran (`syncAnswerer`).
    mutating func remove(_ id: UInt64) -> PeerLink? { links.removeValue(forKey: id) }
}
