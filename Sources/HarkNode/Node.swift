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
    // Each stored property below is one part with one owner: this actor holds them, and each
    // part's type lives in its own file beside the code that uses it.

    /// What the node was started with: configuration, home, identity, store, logger (immutable).
    nonisolated let environment: NodeEnvironment
    /// Per-run resources shared with threads outside the actor (NodeRuntime.swift). Thread-safe.
    nonisolated let runtime: NodeRuntime
    /// Fetches in progress and per-channel chunk servers, outside this actor (Files/FileTransfers.swift).
    let files: FileTransfers
    /// Listening port, stop flag, the home's lock (NodeLifecycle.swift).
    var lifecycle = NodeLifecycle()
    /// Every open channel and its per-channel state, and what is known of each peer (Network/PeerTable.swift).
    var peerTable = PeerTable()
    /// Service sightings, dials in progress and the discovery status (Network/DiscoveryState.swift).
    var discoveryState = DiscoveryState()
    /// Per group: causal graphs, membership, events waiting for parents, rejects (Graph/LogState.swift).
    var logState = LogState()
    /// Invites being redeemed or offered, join requests by code (Invites/InviteState.swift).
    var inviteState = InviteState()
    /// The UDP socket, presence sent and seen, datagram counters (Datagrams/SignalState.swift).
    var signalState = SignalState()
    /// Per group: the epidemic broadcast tree (Broadcast/BroadcastState.swift).
    var broadcastState = BroadcastState()
    /// Heads peers reported and the receipts derived from them (Messages/ReceiptTracking.swift).
    var receiptTracking = ReceiptTracking()
    /// `log --follow` and `watch` streams (Control/Subscribers.swift).
    var subscriberState = Subscribers()
    /// Pairings in progress, verified keys and name warnings, author names (Trust/TrustBook.swift).
    var trustBook = TrustBook()
    /// Manifests served and queried, holders, downloads (Files/FileShareState.swift).
    var fileShare = FileShareState()

    nonisolated var configuration: NodeConfiguration { environment.configuration }
    nonisolated var home: NodeHome { environment.home }
    nonisolated var identity: NodeIdentity { environment.identity }
    nonisolated var store: Store { environment.store }
    nonisolated var logger: Logger { environment.logger }
    /// This device's prekey: sender chains of other members are sealed to its public half.
    nonisolated var prekey: AgreementKeyPair { runtime.prekey }
    /// 8 random bytes, new each start; in the TXT record and the handshake, so a node recognises itself.
    nonisolated var instanceToken: [UInt8] { runtime.instanceToken }
    nonisolated var eventLoopGroup: MultiThreadedEventLoopGroup { runtime.eventLoopGroup }
    nonisolated var inboundPeers: AcceptedConnections { runtime.inboundPeers }
    nonisolated var controlClientTasks: AcceptedConnections { runtime.controlClientTasks }
    nonisolated var addressWatch: AddressWatch { runtime.addressWatch }
    nonisolated var pendingHandshakes: PendingHandshakes { runtime.pendingHandshakes }
    /// The TCP port peers dial (0 until bound), for tasks outside the actor.
    var listenPort: Int { lifecycle.listenPort }
    /// Shutdown has begun (a stop request, a `handover`, or the task cancelled): nothing is
    /// dialled again, and the home's lock goes once it ends. For tasks outside the actor.
    public var isStopping: Bool { lifecycle.stopped }

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
        let identity = try home.load(passphrase: passphrase)
        let prekey = try home.loadOrCreatePrekey(for: identity)
        let store = try Store(path: home.storePath)
        self.environment = NodeEnvironment(configuration: configuration, home: home, identity: identity, store: store, logger: logger,
                                           clock: configuration.clock)
        self.runtime = NodeRuntime(prekey: prekey, configuration: configuration)
        self.files = FileTransfers(logger: logger)
        // Known from the start: `status` answers before `run` gets to discovery.
        if !configuration.discoveryEnabled { discoveryState.status = DiscoveryStatus(state: "disabled") }
    }

    /// A node that only reads its home's store, opened read-only beside any running daemon
    /// (`LocalReader`): it is never run, writes nothing, and creates no prekey file (a missing
    /// one is replaced by a throwaway key that nothing publishes).
    /// - Throws: `HomeError` for an unusable home (`.locked` when its keys are encrypted and no
    ///   passphrase is given); `StoreError` (`.noStore`, `.schemaMismatch`, `.database`).
    init(readingHome home: NodeHome, logger: Logger, passphrase: [UInt8]? = nil) throws {
        let configuration = NodeConfiguration()
        let identity = try home.load(passphrase: passphrase)
        let prekey = access(home.prekeyPath, F_OK) == 0 ? try home.loadOrCreatePrekey(for: identity) : AgreementKeyPair.generate()
        let store = try Store(readOnlyPath: home.storePath)
        self.environment = NodeEnvironment(configuration: configuration, home: home, identity: identity, store: store, logger: logger,
                                           clock: configuration.clock)
        self.runtime = NodeRuntime(prekey: prekey, configuration: configuration)
        self.files = FileTransfers(logger: logger)
    }

    /// A node that only answers reads for `node` (ReadService.swift): same home, identity,
    /// prekey, runtime and file transfers, a read-only store connection of its own. Never run;
    /// writes nothing. Cheap: opens one SQLite connection, starts no thread.
    /// - Throws: `StoreError` when the store cannot be opened read-only.
    init(readerOf node: Node) throws {
        let env = node.environment
        let store = try Store(readOnlyPath: env.home.storePath)
        self.environment = NodeEnvironment(configuration: env.configuration, home: env.home, identity: env.identity, store: store, logger: env.logger,
                                           clock: env.clock)
        self.runtime = node.runtime
        // Shared, not copied: a FileTransfers starts threads, and the fetches in progress are the node's.
        self.files = node.files
    }

    /// This node's peer ID (its identity key). Thread-safe.
    public nonisolated var peerID: PeerID { identity.peerID }

    /// The node's wall clock, monotonic clock and timer sleeps (`NodeConfiguration.clock`). Thread-safe.
    nonisolated var clock: any NodeClock { environment.clock }

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
            lifecycle.homeLock?.release()
            lifecycle.homeLock = nil
            throw error
        }
        let datagrams = await bindDatagramSocket()
        logger.info("node started", metadata: [
            "peer.id": "\(peerID)", "tcp.port": "\(lifecycle.listenPort)", "udp.port": "\(signalState.udpPort)", "control.socket": "\(home.socketPath)",
        ])
        configuration.onReady?(lifecycle.listenPort)
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
            self.lifecycle.stopRequest = stopper
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
        lifecycle.homeLock?.release()
        lifecycle.homeLock = nil
        logger.info("node stopped")
    }

    /// Ends `run()` as cancelling its task would: channels closed, control requests in progress
    /// answered, then the home's lock released. Safe to call more than once.
    public func requestStop() {
        lifecycle.stopRequest?.yield()
    }

    /// Control connections open now (each is a client being served: a CLI command, a watcher).
    /// A short-lived node stays while others use it. Thread-safe.
    public nonisolated var controlClientCount: Int { runtime.controlClients.load(ordering: .relaxed) }

    func setDiscoveryStatus(_ s: DiscoveryStatus) { discoveryState.status = s }

    /// Closes the listeners, then ends every connection they accepted (each task closes its own
    /// channel) and waits for those tasks.
    func shutdown(listener: any Channel, control: any Channel) async {
        lifecycle.stopped = true
        flushHolds(nowMs: nil)
        if configuration.epidemicBroadcast { logger.info("broadcast counters", metadata: ["sent": "\(broadcastState.counters)"]) }
        logger.info("frames sent", metadata: ["frames/bytes": "\(FrameTraffic.shared.summary)"])
        logger.info("events delivered", metadata: ["deliveries": "\(logState.deliveryCounts.deliveries)",
                                                   "events": "\(logState.deliveryCounts.events)"])
        discoveryState.browser?.stop()
        for s in peerTable.sessions { s.close() }
        for (_, f) in subscriberState.followers { f.continuation.finish() }
        subscriberState.followers.removeAll()
        for (_, w) in subscriberState.watchers { w.continuation.finish() }
        subscriberState.watchers.removeAll()
        try? await signalState.udp?.close()
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
