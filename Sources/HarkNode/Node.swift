import Foundation
import HarkControl
import HarkCrypto
import HarkDiscovery
import HarkFiles
import HarkLog
import HarkStore
import HarkSync
import HarkWire
import HarkWireProto
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A running hark node: discovery → Noise channels → group sync → store, plus the control socket.
///
/// All node state lives in this actor; network I/O runs in NIO and in tasks that call back into
/// it. Nothing a peer sends reaches the actor before its handshake authenticated it.
public actor Node {
    let configuration: NodeConfiguration
    let home: NodeHome
    let identity: NodeIdentity
    /// This device's prekey: sender chains of other members are sealed to its public half.
    let prekey: AgreementKeyPair
    let store: Store
    let logger: Logger
    /// 8 random bytes, new each start; in the TXT record and the handshake, so a node recognises itself.
    let instanceToken: [UInt8] = SecureRandom.bytes(8)
    let eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    /// The tasks serving accepted peer connections and control clients (AcceptedConnections.swift).
    let inboundPeers = AcceptedConnections()
    let controlClientTasks = AcceptedConnections()

    var listenPort: Int = 0
    var nextSessionID: UInt64 = 1
    var sessions: [UInt64: PeerSession] = [:]
    /// Open channel per peer device: identity key plus instance token (one identity running on
    /// two machines is two devices, and forks its log).
    var sessionByDevice: [DeviceKey: UInt64] = [:]
    /// Per session: groups both sides proved to hold.
    var sharedGroups: [UInt64: Set<EventID>] = [:]
    /// Per session: groups we sent our offer tag for.
    var offeredGroups: [UInt64: Set<EventID>] = [:]
    /// Per session: offer tags received that matched none of our groups (yet).
    var unmatchedTags: [UInt64: Set<[UInt8]>] = [:]
    /// Events received whose parents are not all held yet, per group.
    var pending: [EventID: [EventID: Event]] = [:]
    /// Events that failed validation; never stored, relayed or requested again.
    var rejected: Set<EventID> = []
    var followers: [Int: (group: EventID, continuation: AsyncStream<MessageView>.Continuation)] = [:]
    var nextFollowerID = 1
    var discoveryStatus = DiscoveryStatus(state: "starting")
    var discoveryReasonLogged: String?
    /// Peers we know of: display names, addresses, how found.
    var peerInfo: [PeerID: PeerInfo] = [:]
    /// Addresses being dialled now, to avoid duplicate dials.
    var dialing: Set<String> = []
    /// Discovered services by instance token (hex), with the address to dial.
    var sightings: [String: ServiceSighting] = [:]
    /// This host's addresses as last polled; wakes redial loops when one appears.
    nonisolated let addressWatch = AddressWatch()
    var discovery: AvahiDiscovery?
    var stopped = false
    /// The home's lock, held from `bindControlSocket` until `run()` ends (HomeLock.swift).
    var homeLock: HomeLock?
    /// Ends `run()` when yielded to (`requestStop`, a `handover` request).
    var stopRequest: AsyncStream<Void>.Continuation?
    /// Display names authors gave in their JOIN or genesis events.
    var authorNames: [SigningPublicKey: String] = [:]
    /// Per channel and group: the Algorithm 2 reconciliation state.
    var reconciliations: [UInt64: [EventID: ReconciliationSession]] = [:]
    /// Per channel: the task that sends its sync answers from the store (Sync/SyncAnswers.swift).
    var syncAnswerers: [UInt64: SyncAnswerer] = [:]
    /// Forks for which this node already wrote an equivocation proof.
    var provenForks: Set<CausalGraph.Fork> = []
    /// Per group: the in-memory causal graph (NodeGraphs.swift).
    var graphs: [EventID: CausalGraph] = [:]
    /// What validation from the store reads of each group, kept while its history generation holds.
    var historyBases: StoreHistory.Bases = [:]
    /// Per group: its membership rules and cached membership states (NodeGraphs.swift).
    var membershipIndexes: [EventID: MembershipIndex] = [:]
    /// Per session: groups whose key the peer proved but in which it is not a member (yet).
    var awaitingMembership: [UInt64: Set<EventID>] = [:]
    /// Invites being redeemed, by group (Invites/NodeInviteRedeeming.swift).
    var pendingJoins: [EventID: PendingJoin] = [:]
    /// ADDs this node wrote for redeemed invites, watched for a lost race (InviteRedemption.swift).
    var redeemedAdds: [EventID: RedeemedAdd] = [:]
    /// Invites peers handed over a channel, oldest first (at most 64).
    var offeredInvites: [OfferedInvite] = []
    /// Join by code (JoinByCode.swift, NodeJoinRequests.swift): requests this node holds as an
    /// admin, the per-peer limit on them, and this node's own requests by group name.
    var joinRequestBook = JoinRequestBook()
    var joinLimiter = JoinRateLimiter()
    var outgoingJoins: [String: OutgoingJoinRequest] = [:]
    /// PREKEY event → its 32 B key (NodeSenderKeys.swift).
    var prekeyCache: [EventID: [UInt8]] = [:]
    /// Per group: each member's current prekey, recomputed only after a PREKEY or MEMBER event
    /// (every MESSAGE asks for it; a scan of the graph each time would be O(events)).
    var prekeyViews: [EventID: [SigningPublicKey: [UInt8]]] = [:]

    // Real-time layer (NodeDatagrams.swift, NodePresence.swift, NodeWatch.swift, NodeReceipts.swift).
    /// The UDP socket for datagrams, if it could be bound.
    var udp: (any Channel)?
    var udpPort: Int = 0
    var udpIsIPv6 = false
    /// Per session: datagram keys and the peer's UDP address.
    var datagramPeers: [UInt64: DatagramPeer] = [:]
    var datagramCounters = DatagramCounters()
    /// This node's presence, sent in heartbeats.
    var ownPresence = (state: Hark_V1_PresenceState.online, statusText: "")
    var presenceSeq: UInt64 = 0
    /// Per session: the peer device's latest heartbeat.
    var heartbeats: [UInt64: Heartbeat] = [:]
    /// Per peer: the presence last emitted to watchers (absent = offline).
    var lastPresence: [PeerID: PresenceView] = [:]
    var watchers: [Int: Watcher] = [:]
    /// Per group and peer: the heads the peer reported holding (cache of the store's peer_holds).
    var reportedHeads: [EventID: [SigningPublicKey: [EventID]]] = [:]
    /// Which of those changed and wait to be written to the store (NodeReceipts.swift).
    var holdsWriteBehind = HoldsWriteBehind()
    /// Messages this node wrote recently, per group, and their last emitted receipt states.
    var recentOwnMessages: [EventID: [EventID]] = [:]
    var receiptCache: [EventID: [SigningPublicKey: ReceiptState]] = [:]
    /// Per group: the epidemic broadcast tree over channels that speak it (Broadcast/NodeBroadcast.swift).
    var broadcasts: [EventID: EpidemicBroadcast<UInt64>] = [:]
    /// Per channel and group: a Heads acknowledgement is due; since when (ms, `monoMs`).
    var pendingAcks: [UInt64: [EventID: Int64]] = [:]
    /// Picks the lazy peers an event is announced to.
    var broadcastRNG = SystemRandomNumberGenerator()
    var broadcastCounters = BroadcastCounters()

    // Trust (NodeTrust.swift): `hark pair` in progress per peer, and trust state cached from the store.
    var pairings: [PeerID: Pairing] = [:]
    var trustState: TrustCache?
    // File sharing (Files/).
    /// Fetches in progress and per-channel chunk servers, outside this actor.
    let files: FileTransfers
    /// Inbound connections not authenticated yet, under their caps (HandshakeAdmission.swift).
    nonisolated let pendingHandshakes: PendingHandshakes
    /// Control connections being served now (`controlClientCount`).
    nonisolated let controlClients = Atomic<Int>(0)
    /// Manifests this node serves, loaded from the store on first use.
    var servables: [ManifestID: Servable] = [:]
    /// Groups known to hold an offer of a manifest (besides the one it was recorded in).
    var offeredIn: [ManifestID: Set<EventID>] = [:]
    /// Per manifest and session: the peer holds every chunk (true) or some (false).
    var fileHolders: [ManifestID: [UInt64: Bool]] = [:]
    /// FileQuery frames sent and not answered yet.
    var pendingFileQueries: [ManifestID: Set<UInt64>] = [:]
    var manifestDownloads: [ManifestID: ManifestDownload] = [:]
    var nextDownloadToken: UInt64 = 0

    struct DeviceKey: Hashable {
        let peer: PeerID
        let token: [UInt8]
    }

    struct PeerInfo {
        var displayName: String
        var address: String?
        var source: String?
        var lastSeenMs: Int64
        /// The port the peer accepts channels on, from its handshake.
        var listenPort: Int?
    }

    /// Opens the store and loads the identity. Does no network I/O yet.
    /// - Throws: `HomeError` for an unusable home, store errors for an unusable database.
    /// - Parameter passphrase: for a home whose keys are sealed (the caller zeroes its copy).
    ///   A wrong one throws `HomeError.wrongPassphrase` before the store is opened.
    public init(home: NodeHome, configuration: NodeConfiguration, logger: Logger, passphrase: [UInt8]? = nil) throws {
        self.home = home
        self.configuration = configuration
        // Known from the start: `status` answers before `run` gets to discovery.
        if !configuration.discoveryEnabled { discoveryStatus = DiscoveryStatus(state: "disabled") }
        self.logger = logger
        self.identity = try home.load(passphrase: passphrase)
        self.prekey = try home.loadOrCreatePrekey(for: identity)
        self.store = try Store(path: home.storePath)
        self.files = FileTransfers(logger: logger)
        self.pendingHandshakes = PendingHandshakes(limits: .init(
            maxPending: configuration.maxPendingHandshakes, maxPendingPerSource: configuration.maxPendingHandshakesPerSource,
            handshakeTimeoutMs: configuration.handshakeTimeoutMs))
    }

    /// A node that only reads its home's store, opened read-only beside any running daemon
    /// (`LocalReader`): it is never run, writes nothing, and creates no prekey file (a missing
    /// one is replaced by a throwaway key that nothing publishes).
    /// - Throws: `HomeError` for an unusable home (`.locked` when its keys are encrypted and no
    ///   passphrase is given); `StoreError` (`.noStore`, `.schemaMismatch`, `.database`).
    init(readingHome home: NodeHome, logger: Logger, passphrase: [UInt8]? = nil) throws {
        self.home = home
        self.configuration = NodeConfiguration()
        self.logger = logger
        self.identity = try home.load(passphrase: passphrase)
        if access(home.prekeyPath, F_OK) == 0 {
            self.prekey = try home.loadOrCreatePrekey(for: identity)
        } else {
            self.prekey = AgreementKeyPair.generate()
        }
        self.store = try Store(readOnlyPath: home.storePath)
        self.files = FileTransfers(logger: logger)
        self.pendingHandshakes = PendingHandshakes(limits: .init(
            maxPending: configuration.maxPendingHandshakes, maxPendingPerSource: configuration.maxPendingHandshakesPerSource,
            handshakeTimeoutMs: configuration.handshakeTimeoutMs))
    }

    /// A node that only answers reads for `node` (ReadService.swift): same home, identity,
    /// prekey and file transfers, a read-only store connection of its own. Never run; writes
    /// nothing. Cheap: opens one SQLite connection, starts no thread.
    /// - Throws: `StoreError` when the store cannot be opened read-only.
    init(readerOf node: Node) throws {
        self.home = node.home
        self.configuration = node.configuration
        self.logger = node.logger
        self.identity = node.identity
        self.prekey = node.prekey
        self.store = try Store(readOnlyPath: node.home.storePath)
        // Shared, not copied: a FileTransfers starts threads, and the fetches in progress are the node's.
        self.files = node.files
        self.pendingHandshakes = node.pendingHandshakes
    }

    var peerID: PeerID { identity.peerID }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Runs the node until the task is cancelled (SIGINT/SIGTERM in `hark daemon`).
    /// - Throws: `NodeError.bindFailed` when the peer port or the control socket cannot be bound.
    public func run() async throws {
        // The home's lock first (a daemon waits there for a send's short-lived node to hand the
        // home over), then the peer port, which that node holds until it has stopped.
        let control = try await bindControlSocket()
        let listener: any Channel
        do {
            listener = try await bindPeerListener()
        } catch {
            try? await control.close()
            unlink(home.socketLinkPath)
            if home.socketPath != home.socketLinkPath { unlink(home.socketPath) }
            homeLock?.release()
            homeLock = nil
            throw error
        }
        let datagrams = await bindDatagramSocket()
        logger.info("node started", metadata: [
            "peer.id": "\(peerID)", "tcp.port": "\(listenPort)", "udp.port": "\(udpPort)", "control.socket": "\(home.socketPath)",
        ])
        configuration.onReady?(listenPort)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let datagrams {
                group.addTask { await self.receiveDatagrams(datagrams) }
            }
            group.addTask { await self.runHeartbeats() }
            // Also writes reported heads behind (HoldsWriteBehind), so it runs without §6.4 too.
            group.addTask { await self.runBroadcastTimers() }
            group.addTask { await self.watchLocalAddresses() }
            if configuration.discoveryEnabled {
                group.addTask { await self.runDiscovery() }
            }
            if configuration.dialKnownPeers {
                for record in (try? store.peers()) ?? [] {
                    // Every child runs until cancelled: the first to return ends the node.
                    guard let spec = record.lastAddress, Self.parseHostPort(spec) != nil else { continue }
                    group.addTask { await self.keepDialling(staticPeer: spec, source: "known") }
                }
            }
            for peer in configuration.staticPeers {
                group.addTask { await self.keepDialling(staticPeer: peer) }
            }
            // Wait for cancellation or a stop request, then tear down.
            let (stops, stopper) = AsyncStream<Void>.makeStream()
            self.stopRequest = stopper
            group.addTask {
                for await _ in stops { return }
            }
            group.addTask {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            _ = try await group.next()
            group.cancelAll()
            await self.shutdown(listener: listener, control: control)
        }
        // Every control client is answered and closed: the home is free for the next node.
        homeLock?.release()
        homeLock = nil
        logger.info("node stopped")
    }

    /// Ends `run()` as cancelling its task would: channels closed, control requests in progress
    /// answered, then the home's lock released. Safe to call more than once.
    public func requestStop() {
        stopRequest?.yield()
    }

    /// Control connections open now (each is a client being served: a CLI command, a watcher).
    /// A short-lived node stays while others use it. Thread-safe.
    public nonisolated var controlClientCount: Int { controlClients.load(ordering: .relaxed) }

    func setDiscoveryStatus(_ s: DiscoveryStatus) { discoveryStatus = s }

    /// Closes the listeners, then ends every connection they accepted (each task closes its own
    /// channel) and waits for those tasks.
    func shutdown(listener: any Channel, control: any Channel) async {
        stopped = true
        flushHolds(nowMs: nil)
        if configuration.epidemicBroadcast { logger.info("broadcast counters", metadata: ["sent": "\(broadcastCounters)"]) }
        logger.info("frames sent", metadata: ["frames/bytes": "\(FrameTraffic.shared.summary)"])
        discovery?.stop()
        for (_, s) in sessions { s.close() }
        for (_, f) in followers { f.continuation.finish() }
        followers.removeAll()
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
        try? await udp?.close()
        try? await listener.close()
        try? await control.close()
        let socket = home.socketPath
        unlink(home.socketLinkPath)
        if socket != home.socketLinkPath { unlink(socket) }
        await inboundPeers.closeAndWait()
        await controlClientTasks.closeAndWait()
    }
}

/// Why the node could not start.
public enum NodeError: Error, CustomStringConvertible {
    case bindFailed(what: String, why: String)
    /// Another process holds the home's lock: `holder` as its lock file names it (nil: unknown);
    /// `waitedMs`: how long this node waited for it to hand the home over.
    case alreadyRunning(home: String, holder: HomeLockHolder?, waitedMs: Int64)

    public var description: String {
        switch self {
        case let .bindFailed(what, why): return "cannot listen on \(what): \(why)"
        case let .alreadyRunning(home, holder, waitedMs):
            let who = holder?.description ?? "another hark process"
            let waited = waitedMs > 0 ? " (still held after waiting \(waitedMs) ms for it to hand the home over)" : ""
            return "\(home) is in use by \(who)\(waited)"
        }
    }
}
