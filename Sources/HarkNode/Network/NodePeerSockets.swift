// The node's peer sockets: the channel pipeline and socket buffer sizes of a peer connection,
// the listener and its admission of accepted connections, and dialling (once, or again and
// again for a static peer). Node actor state (`listenPort`, `dialing`); the pipeline setup and
// the static helpers are nonisolated and thread-safe.

import Foundation
import HarkCrypto
import HarkDiscovery
import HarkNoise
import HarkWire
import HarkWireProto
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
    /// in the node (PROTOCOL.md Appendix B.2), but not bytes already handed to the kernel: a small send
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

    /// Milliseconds of the host's monotonic clock (uptime), not the node's `clock`: handshake
    /// admission deadlines and the control socket's waits for the home's lock.
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
                    lifecycle.listenPort = server.localAddress?.port ?? 0
                    if port == 0 && !configuration.preferredPorts.isEmpty {
                        logger.warning("the preferred TCP ports are taken; listening on a free one", metadata: [
                            "tcp.port": "\(lifecycle.listenPort)", "tcp.preferred": "\(configuration.preferredPorts.map(String.init).joined(separator: ","))",
                        ])
                    }
                    if configuration.rememberPort { home.rememberPort(lifecycle.listenPort) }
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
        let stopping = await isStopping
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
        guard !lifecycle.stopped, !discoveryState.dialing.contains(label) else { return false }
        guard peerTable.count < configuration.maxConnections else { return false }
        discoveryState.dialing.insert(label)
        defer { discoveryState.dialing.remove(label) }
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
