import Foundation
import HarkCrypto
import HarkDiscovery
import HarkNoise
import HarkProto
import HarkWire
import Logging
import NIOCore
import NIOPosix

typealias PeerChannel = NIOAsyncChannel<StreamUnit, ByteBuffer>

/// An accepted connection and its admission ticket (nil: refused, to be closed unread).
struct InboundConnection: Sendable {
    let channel: PeerChannel
    let ticket: HandshakeAdmission.Ticket?
}

extension Node {
    /// The pipeline of every peer connection: stream units (Noise messages and attachments,
    /// PROTOCOL.md §3.2) under NIOAsyncChannel. `role` is this side's: the decoder takes only
    /// handshake messages until the peer's are in (§3.1).
    nonisolated static func makePeerChannel(_ channel: any Channel, role: NoiseRole) -> EventLoopFuture<PeerChannel> {
        channel.eventLoop.makeCompletedFuture {
            // Bulk transfer: NIO's defaults (writable only below 64 KiB queued, reads of at most
            // 64 KiB) make the writer wait for the socket after every ChunkData frame (256 KiB)
            // and cut most 64 KiB Noise records across two reads. One slice more queued keeps the
            // socket busy while the next frame is sealed; more would delay a chat frame (queued
            // before the next slice, but behind what NIO holds) for no gain in throughput.
            // Reads of up to 1 MiB: during a fetch the receive buffer (256 KiB set, 512 KiB as
            // Linux counts it) holds more than 256 KiB at most reads, and each read is a wake-up
            // of the event loop and of the channel's reader task; a read takes what is there,
            // so a chat frame is never held back by it.
            try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: 64 << 10, high: 320 << 10))
            try channel.syncOptions?.setOption(.recvAllocator,
                                               value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StreamUnitDecoder(
                handshakeMessageCount: HandshakeDriver.peerMessageCount(role: role))))
            return try PeerChannel(wrappingChannelSynchronously: channel)
        }
    }

    /// The kernel send buffer of a peer channel, bytes. Chat frames jump the queue of chunk data
    /// in the node (PROTOCOL.md §11.5), but not bytes already handed to the kernel: a small send
    /// buffer bounds how long a message waits behind a transfer (256 KiB is ~2 ms at 150 MB/s).
    nonisolated static let peerSendBufferBytes: SocketOptionValue = 256 * 1024

    /// Attachment bytes the writer puts in one write at most (two 256 KiB slices and their
    /// tags): fewer hand-offs to the event loop during a transfer, while a chat frame queued
    /// meanwhile waits behind at most this much more than one slice.
    nonisolated static let bulkWriteBytes = 2 * (256 * 1024 + 16)

    /// The kernel receive buffer of a peer channel, bytes (Linux doubles it for its own
    /// bookkeeping). Left to autotuning, it grows to `tcp_rmem`'s maximum (32 MiB here), and
    /// whenever the receiving node reads more slowly than the sender sends, file data piles up
    /// there ahead of any chat frame: during a 1 GiB fetch on loopback the receiver's Recv-Q
    /// reached 1.7–2.7 MiB (p99; 256 KiB set: 460 KiB, at the same fetch speed). Bounded, the
    /// backlog stays in the sender's bulk queue, which chat frames jump. Set on the listener
    /// (accepted sockets inherit it, window scaling included) and before connecting.
    nonisolated static let peerReceiveBufferBytes: SocketOptionValue = 256 * 1024

    /// The admission key of a peer address: an IPv4 address, or the /64 of an IPv6 one (one
    /// host commonly holds a whole /64), IPv4-mapped IPv6 as IPv4.
    nonisolated static func admissionSource(_ address: SocketAddress?) -> String {
        switch address {
        case .v4?: return address?.ipAddress ?? "?"
        case let .v6(a)?:
            let bytes = withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "::/64"
        default: return "?"
        }
    }

    /// Child channel setup of the listener, on the child's event loop: admission first; a refused
    /// connection is set up without reading (autoRead off) and closed by `serveInbound`.
    nonisolated static func makeInboundChannel(_ channel: any Channel, pending: PendingHandshakes) -> EventLoopFuture<InboundConnection> {
        let ticket = pending.admit(channel, source: admissionSource(channel.remoteAddress), nowMs: Node.monotonicMs())
        if ticket == nil { try? channel.syncOptions?.setOption(.autoRead, value: false) }
        let made = makePeerChannel(channel, role: .responder)
        made.whenFailure { _ in
            if let ticket { pending.release(ticket) }
            channel.close(promise: nil)
        }
        return made.map { InboundConnection(channel: $0, ticket: ticket) }
    }

    /// Milliseconds of a monotonic clock (uptime): handshake admission, probe and other deadlines.
    nonisolated static func monotonicMs() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Binds the peer port. Each accepted connection is served by a task of `inboundPeers`,
    /// started as soon as its child channel is set up.
    /// - Throws: `NodeError.bindFailed` when no port of the configured or preferred ones is free.
    func bindPeerListener() async throws -> any Channel {
        let pending = pendingHandshakes
        let accepted = inboundPeers
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_sndbuf), value: Self.peerSendBufferBytes)
            .serverChannelOption(.socketOption(.so_rcvbuf), value: Self.peerReceiveBufferBytes)
            .childChannelInitializer { child in
                Node.makeInboundChannel(child, pending: pending).map { connection in
                    accepted.start { await self.serveInbound(connection) }
                }
            }
        var hosts = [configuration.listenHost]
        if configuration.listenHost == "::" { hosts.append("0.0.0.0") }
        // An explicit port is bound or fails; otherwise the preferred ports are tried in order
        // (the remembered one, then the default), then any free port.
        var ports = [configuration.listenPort]
        if configuration.listenPort == 0 {
            var seen = Set<Int>()
            ports = configuration.preferredPorts.filter { (1...65535).contains($0) && seen.insert($0).inserted } + [0]
        }
        var lastError: (any Error)?
        for port in ports {
            for host in hosts {
                do {
                    let server = try await bootstrap.bind(host: host, port: port).get()
                    listenPort = server.localAddress?.port ?? 0
                    if port == 0 && !configuration.preferredPorts.isEmpty {
                        logger.warning("the preferred TCP ports are taken; listening on a free one", metadata: [
                            "tcp.port": "\(listenPort)", "tcp.preferred": "\(configuration.preferredPorts.map(String.init).joined(separator: ","))",
                        ])
                    }
                    if configuration.rememberPort { home.rememberPort(listenPort) }
                    return server
                } catch {
                    lastError = error
                }
            }
        }
        throw NodeError.bindFailed(what: "\(configuration.listenHost) port \(configuration.listenPort)",
                                   why: lastError.map { "\($0)" } ?? "unknown error")
    }

    /// Serves one accepted connection to its close: refused ones (over the per-source cap of
    /// unauthenticated connections, or accepted while the node stops) are closed unread.
    nonisolated func serveInbound(_ accepted: InboundConnection) async {
        let connection = accepted.channel
        let remote = connection.channel.remoteAddress.map(Self.describe) ?? "?"
        guard let ticket = accepted.ticket else {
            logger.debug("too many handshakes from one source; closing", metadata: ["peer.address": "\(remote)"])
            try? await connection.executeThenClose { _, _ in }
            return
        }
        let stopping = await stopped
        if Task.isCancelled || stopping {
            pendingHandshakes.release(ticket)
            try? await connection.executeThenClose { _, _ in }
            return
        }
        await runConnection(connection, role: .responder, remote: remote, source: "inbound", admission: ticket)
    }

    nonisolated static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case let .v6(a):
            let ip = address.ipAddress ?? "?"
            if ip.hasPrefix("::ffff:"), ip.contains(".") { return "\(ip.dropFirst(7)):\(address.port ?? 0)" }
            // a link-local address is ambiguous without its interface: keep the scope (`%2`)
            let scope = a.address.sin6_scope_id
            return "[\(ip)\(scope != 0 && !ip.contains("%") ? "%\(scope)" : "")]:\(address.port ?? 0)"
        default: return "\(address)"
        }
    }

    /// Dials `address` once and runs the connection until it closes.
    /// - Returns: whether a handshake completed.
    @discardableResult
    func dial(_ address: SocketAddress, label: String, source: String) async -> Bool {
        guard !stopped, !dialing.contains(label) else { return false }
        guard sessions.count < configuration.maxConnections else { return false }
        dialing.insert(label)
        defer { dialing.remove(label) }
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMs))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_sndbuf), value: Self.peerSendBufferBytes)
            .channelOption(.socketOption(.so_rcvbuf), value: Self.peerReceiveBufferBytes)
        let connection: PeerChannel
        do {
            connection = try await bootstrap.connect(to: address) { Node.makePeerChannel($0, role: .initiator) }
        } catch {
            logger.debug("dial failed", metadata: ["peer.address": "\(label)", "error": "\(error)"])
            return false
        }
        return await runConnection(connection, role: .initiator, remote: label, source: source)
    }

    /// Handshake, then the session's reader and writer, until the channel closes. An inbound
    /// connection holds its `admission` ticket until the handshake is over, and must complete it
    /// by the ticket's deadline; an outbound one within `handshakeTimeoutMs`.
    /// - Returns: whether the handshake completed.
    @discardableResult
    nonisolated func runConnection(_ connection: PeerChannel, role: NoiseRole, remote: String, source: String,
                                   admission: HandshakeAdmission.Ticket? = nil) async -> Bool {
        defer { if let admission { pendingHandshakes.release(admission) } }
        let local = LocalHello(identity: identity.signing, noiseStatic: identity.noiseStatic,
                               displayName: identity.displayName, instanceToken: instanceToken,
                               listenPort: UInt16(clamping: await listenPort),
                               features: (configuration.epidemicBroadcast ? ProtocolFeatures.epidemicBroadcast : 0)
                                   | ProtocolFeatures.joinByCode)
        let channel = connection.channel
        // The handshake deadline closes the channel; the pending read then ends.
        let timeoutMs = admission.map { max(0, $0.deadlineMs - Node.monotonicMs()) } ?? configuration.handshakeTimeoutMs
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) {
            channel.close(promise: nil)
        }
        var completed = false
        do {
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                var driver = HandshakeDriver(role: role, local: local)
                if let first = try driver.start() {
                    try await outbound.write(ByteBuffer(bytes: try framedMessage(first)))
                }
                var peer: PeerHello?
                while peer == nil {
                    guard let unit = try await iterator.next() else {
                        throw ConnectionError.closedDuringHandshake
                    }
                    guard case var .message(buffer) = unit else { throw ConnectionError.attachmentDuringHandshake }
                    let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                    switch try driver.receive(bytes) {
                    case let .send(message):
                        try await outbound.write(ByteBuffer(bytes: try framedMessage(message)))
                    case let .sendAndComplete(message, hello):
                        try await outbound.write(ByteBuffer(bytes: try framedMessage(message)))
                        peer = hello
                    case let .complete(hello):
                        peer = hello
                    }
                }
                deadline.cancel()
                if let admission { self.pendingHandshakes.release(admission) }
                guard let hello = peer else { return }
                let records = RecordBox(RecordLayer(transport: try driver.transport()))
                await self.settleMovedDuplicate(hello: hello, remoteIP: channel.remoteAddress?.ipAddress)
                guard let session = await self.openSession(hello: hello, role: role, remote: remote, source: source,
                                                           channel: channel) else {
                    return
                }
                completed = true
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Keepalive: a Ping every interval; a silent peer is dropped.
                        var ping = Hark_V1_Frame()
                        ping.ping = Hark_V1_Ping()
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(self.configuration.keepaliveIntervalMs))
                            if Task.isCancelled { break }
                            if session.silence > .milliseconds(self.configuration.idleTimeoutMs) {
                                self.logger.info("peer silent; closing the channel", metadata: ["peer.id": "\(hello.peerID)"])
                                session.close()
                                break
                            }
                            session.send(ping)
                        }
                    }
                    group.addTask {
                        // Writer: seal queued frames and write them in order.
                        while let item = await session.next() {
                            do {
                                // All records of one frame in one write: one hand-off to the event loop
                                // per frame, not per 64 KiB record. An attachment goes right behind
                                // them, in the same write and without a copy.
                                var out = channel.allocator.buffer(capacity: 0)
                                try records.seal(item.frame, into: &out)
                                FrameTraffic.shared.record(item.frame, bytes: out.readableBytes)
                                if let attachment = item.attachment {
                                    try writeAttachmentHeader(byteCount: attachment.readableBytes, into: &out)
                                    // Slices queued already join this write, up to
                                    // `bulkWriteBytes` and only while no control frame waits:
                                    // one hand-off to the event loop and one writev for them.
                                    var parts = [out, attachment]
                                    var bytes = attachment.readableBytes
                                    while let more = session.nextBulk(fitting: Node.bulkWriteBytes - bytes), let a = more.attachment {
                                        var header = channel.allocator.buffer(capacity: 0)
                                        try records.seal(more.frame, into: &header)
                                        FrameTraffic.shared.record(more.frame, bytes: header.readableBytes)
                                        try writeAttachmentHeader(byteCount: a.readableBytes, into: &header)
                                        parts += [header, a]
                                        bytes += a.readableBytes
                                    }
                                    try await outbound.write(contentsOf: parts)
                                } else {
                                    try await outbound.write(out)
                                }
                            } catch {
                                self.logger.info("peer write failed", metadata: ["peer.id": "\(hello.peerID)", "error": "\(error)"])
                                session.close()
                                return
                            }
                        }
                    }
                    // Reader: open records and hand whole frames to the node; a ChunkData frame
                    // waits for its attachment (§3.2), then both go straight to the fetch.
                    // Frames go to the node in order through `inbound`, which checks the
                    // signatures of Events frames ahead of delivery, off the actor.
                    var inbound = InboundFrames(node: self, session: session)
                    do {
                        var gate = AttachmentGate()
                        var announcing: Hark_V1_ChunkData?
                        reading: while let unit = try await iterator.next() {
                            session.heard()
                            let buffer: ByteBuffer
                            switch unit {
                            case let .attachment(bytes):
                                try gate.attachment(byteCount: bytes.readableBytes)
                                guard let header = announcing else { continue }
                                announcing = nil
                                // File chunk data goes straight to its fetch, never through the node
                                // actor, once the frames before it were handled.
                                guard await inbound.drain() else { break reading }
                                try await self.files.receiveBulk(header, sealed: bytes, from: session)
                                continue
                            case let .message(bytes):
                                try gate.message()
                                buffer = bytes
                            }
                            guard let frame = try records.open(buffer) else { continue }
                            if case let .chunkData(header)? = frame.frame {
                                try gate.frame(announcing: Int(header.sealedLength))
                                announcing = header
                                continue
                            }
                            if case .close(let c)? = frame.frame {
                                self.logger.info("peer closed the channel", metadata: ["peer.id": "\(hello.peerID)", "reason": "\(c.reason)"])
                                break
                            }
                            guard await inbound.submit(frame) else { break reading }
                        }
                        await inbound.finish()
                    } catch where error is CancellationError || Task.isCancelled {
                        // The node is stopping: not the peer's doing.
                        inbound.cancel()
                        self.logger.debug("closing peer connection (node stopping)", metadata: ["peer.id": "\(hello.peerID)"])
                    } catch {
                        inbound.cancel()
                        self.logger.warning("dropping peer connection", metadata: [
                            "peer.id": "\(hello.peerID)", "peer.address": "\(remote)", "reason": "\(error)",
                        ])
                    }
                    session.close()
                    group.cancelAll()
                }
                await self.closeSession(session)
            }
        } catch where error is CancellationError || Task.isCancelled {
            deadline.cancel()
            logger.debug("closing peer connection (node stopping)", metadata: ["peer.address": "\(remote)"])
        } catch {
            deadline.cancel()
            logger.warning("dropping peer connection", metadata: ["peer.address": "\(remote)", "reason": "\(error)"])
        }
        return completed
    }

    /// Registers a new authenticated session, or refuses it (self, duplicate).
    func openSession(hello: PeerHello, role: NoiseRole, remote: String, source: String,
                     channel: any Channel) -> PeerSession? {
        if hello.peerID == peerID && hello.instanceToken == instanceToken {
            logger.debug("connected to myself; closing", metadata: ["peer.address": "\(remote)"])
            return nil
        }
        if hello.peerID == peerID {
            logger.warning("another device uses this node's identity; its events will fork the log", metadata: [
                "peer.address": "\(remote)",
            ])
        }
        if isBlocked(hello.peerID.key) {
            logger.info("channel refused: the user blocked this key", metadata: ["peer.id": "\(hello.peerID)", "peer.address": "\(remote)"])
            return nil
        }
        let direction: PeerSession.Direction = role == .initiator ? .outbound : .inbound
        let device = DeviceKey(peer: hello.peerID, token: hello.instanceToken)
        if let existingID = sessionByDevice[device], let existing = sessions[existingID], !existing.isClosed {
            // Two channels to one device (both dialled at once): both ends keep the channel
            // dialled by the device that sorts first by (identity key, instance token).
            let me = DeviceKey(peer: peerID, token: instanceToken)
            let first = Self.precedes(me, device) ? me : device
            let newInitiator = direction == .outbound ? me : device
            let keepNew = newInitiator == first && existing.direction != direction
            if !keepNew {
                logger.debug("duplicate channel; keeping the other one", metadata: ["peer.id": "\(hello.peerID)"])
                return nil
            }
            existing.close()
        }
        let session = PeerSession(id: nextSessionID, hello: hello, direction: direction, remoteAddress: remote,
                                  source: source, channel: channel)
        nextSessionID += 1
        sessions[session.id] = session
        sessionByDevice[device] = session.id
        sharedGroups[session.id] = []
        offeredGroups[session.id] = []
        unmatchedTags[session.id] = []
        let now = Node.nowMs()
        var info = peerInfo[hello.peerID] ?? PeerInfo(displayName: hello.displayName, address: nil, source: nil, lastSeenMs: now)
        info.displayName = hello.displayName
        info.address = remote
        info.source = source
        info.lastSeenMs = now
        info.listenPort = Int(hello.listenPort)
        peerInfo[hello.peerID] = info
        // The address to dial it at later: for an inbound channel, its IP with the port it listens on.
        var dialable = remote
        if direction == .inbound, hello.listenPort != 0, let ip = channel.remoteAddress?.ipAddress {
            let plain = ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip
            dialable = plain.contains(":") ? "[\(plain)]:\(hello.listenPort)" : "\(plain):\(hello.listenPort)"
        }
        do {
            try store.upsertPeer(key: hello.peerID.key, displayName: hello.displayName, address: dialable, seenMs: now)
        } catch {
            logger.error("cannot record peer", metadata: ["error": "\(error)"])
        }
        noteContact(hello)
        logger.info("channel open", metadata: [
            "peer.id": "\(hello.peerID)", "peer.name": "\(hello.displayName)", "peer.address": "\(remote)",
            "direction": "\(direction.rawValue)",
        ])
        startSync(session)
        for (group, p) in pendingJoins where p.state == "pending" { sendRedeem(group, to: session) }
        resendLostRedeems(to: session)
        offerDirectConversations(on: session)
        openDatagrams(for: session)
        judgePresence(of: hello.peerID)
        return session
    }

    func closeSession(_ session: PeerSession) {
        guard sessions.removeValue(forKey: session.id) != nil else { return }
        let device = DeviceKey(peer: session.peerID, token: session.hello.instanceToken)
        if sessionByDevice[device] == session.id { sessionByDevice.removeValue(forKey: device) }
        broadcastPeerRemoved(session, group: nil)
        sharedGroups.removeValue(forKey: session.id)
        offeredGroups.removeValue(forKey: session.id)
        unmatchedTags.removeValue(forKey: session.id)
        awaitingMembership.removeValue(forKey: session.id)
        reconciliations.removeValue(forKey: session.id)
        syncAnswerers.removeValue(forKey: session.id)?.cancel()
        datagramPeers.removeValue(forKey: session.id)
        heartbeats.removeValue(forKey: session.id)
        pairings = pairings.filter { $0.value.sessionID != session.id }
        fileSessionClosed(session)
        peerInfo[session.peerID]?.lastSeenMs = Node.nowMs()
        logger.info("channel closed", metadata: ["peer.id": "\(session.peerID)"])
        judgePresence(of: session.peerID)
        // A discovered peer that is still advertised is dialled again (with backoff), whichever
        // side had dialled the channel that just closed.
        let token = Hex.encode(session.hello.instanceToken)
        if !stopped, sightings[token] != nil, sessionByDevice[device] == nil {
            Task { await self.dialSighting(token: token, fresh: false) }
        }
    }

    nonisolated static func precedes(_ a: DeviceKey, _ b: DeviceKey) -> Bool {
        a.peer != b.peer ? a.peer < b.peer : a.token.lexicographicallyPrecedes(b.token)
    }

    func hasSession(instanceToken token: [UInt8]) -> Bool {
        sessions.values.contains { $0.hello.instanceToken == token }
    }

    /// Dials a `--peer HOST:PORT` again and again while the node runs (500 ms, doubling to 10 s
    /// after failures; back to the start after a channel that worked).
    nonisolated func keepDialling(staticPeer spec: String, source: String = "static") async {
        var delayMs = configuration.redialInitialMs
        while !Task.isCancelled {
            let epoch = addressWatch.epoch
            if let address = Self.resolve(spec) {
                if await dial(address, label: spec, source: source) {
                    delayMs = configuration.redialInitialMs
                } else {
                    delayMs = min(delayMs * 2, 10_000)
                }
            } else {
                logger.warning("cannot resolve static peer", metadata: ["peer.address": "\(spec)"])
                delayMs = 30_000
            }
            // A local address that appears (a link back up) ends the back-off: dial at once.
            if await addressWatch.sleep(ms: delayMs, since: epoch) { delayMs = configuration.redialInitialMs }
        }
    }

    /// Parses `host:port` or `[v6]:port` and resolves the host.
    nonisolated static func resolve(_ spec: String) -> SocketAddress? {
        guard let (host, port) = parseHostPort(spec) else { return nil }
        return try? SocketAddress.makeAddressResolvingHost(host, port: port)
    }

    /// Splits `host:port` / `[v6]:port`; nil if malformed or the port is not 1…65535
    /// (``HostPort/init(endpoint:)``).
    public nonisolated static func parseHostPort(_ spec: String) -> (String, Int)? {
        guard let endpoint = HostPort(endpoint: spec), let port = endpoint.port else { return nil }
        return (endpoint.host, port)
    }
}

/// The record layer of one channel, shared by its reader and writer under a lock.
final class RecordBox: Sendable {
    private let layer: Mutex<RecordLayer>
    init(_ layer: RecordLayer) { self.layer = Mutex(layer) }
    func seal(_ frame: Hark_V1_Frame) throws -> [[UInt8]] { try layer.withLock { try $0.seal(frame) } }
    func seal(_ frame: Hark_V1_Frame, into out: inout ByteBuffer) throws { try layer.withLock { try $0.seal(frame, into: &out) } }
    func open(_ message: ByteBuffer) throws -> Hark_V1_Frame? { try layer.withLock { try $0.open(message) } }
}

enum ConnectionError: Error, CustomStringConvertible {
    case closedDuringHandshake
    case attachmentDuringHandshake
    var description: String {
        switch self {
        case .closedDuringHandshake: return "connection closed (or handshake timed out) before the handshake completed"
        case .attachmentDuringHandshake: return "an attachment arrived during the handshake (only Noise messages may)"
        }
    }
}

import Synchronization
