import Foundation
import HarkCrypto
import HarkDatagram
import HarkLog
import HarkWireProto
import Logging
import NIOCore
import NIOPosix

/// The datagram state of one channel (PROTOCOL.md §7.2): our send key for the peer, the peer's
/// keys, and where its UDP socket is.
struct DatagramPeer: Sendable {
    var sender: DatagramSender
    var receiver = DatagramReceiver()
    /// The peer's IP (from the TCP channel) with the UDP port it announced; nil until announced.
    var address: SocketAddress?
}

/// What became of the datagrams that arrived (shown in `status`; tests read it).
struct DatagramCounters: Sendable {
    var accepted = 0
    var replayed = 0
    var unknownKey = 0
    var authenticationFailed = 0
    var malformed = 0
    var sent = 0
}

/// Forwards received UDP datagrams to the node. Runs on the event loop; only enqueues.
final class DatagramInbound: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let sink: AsyncStream<(SocketAddress, [UInt8])>.Continuation
    init(sink: AsyncStream<(SocketAddress, [UInt8])>.Continuation) { self.sink = sink }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        // Oversized datagrams are cut by the receive buffer and then fail authentication.
        if let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) {
            sink.yield((envelope.remoteAddress, bytes))
        }
    }
}

extension Node {
    /// Binds the UDP socket for datagrams: the TCP port's number if free, else any port.
    /// Failing to bind is not fatal: the node then works without datagrams (TCP carries all
    /// that is durable; presence falls back to the channels' keepalives).
    func bindDatagramSocket() async -> AsyncStream<(SocketAddress, [UInt8])>? {
        let (stream, sink) = AsyncStream.makeStream(of: (SocketAddress, [UInt8]).self, bufferingPolicy: .bufferingNewest(1024))
        var hosts = [configuration.listenHost]
        if configuration.listenHost == "::" { hosts.append("0.0.0.0") }
        for host in hosts {
            for port in [lifecycle.listenPort, 0] {
                do {
                    let channel = try await DatagramBootstrap(group: eventLoopGroup)
                        .channelOption(.socketOption(.so_reuseaddr), value: 1)
                        .channelInitializer { ch in
                            ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(DatagramInbound(sink: sink)) }
                        }
                        .bind(host: host, port: port).get()
                    signalState.udp = channel
                    signalState.udpPort = channel.localAddress?.port ?? 0
                    if case .v6? = channel.localAddress { signalState.udpIsIPv6 = true }
                    return stream
                } catch {
                    logger.debug("cannot bind UDP", metadata: ["host": "\(host)", "port": "\(port)", "error": "\(error)"])
                }
            }
        }
        logger.warning("no UDP socket; presence, typing and head hints are off (TCP still carries all history)")
        sink.finish()
        return nil
    }

    nonisolated func receiveDatagrams(_ stream: AsyncStream<(SocketAddress, [UInt8])>) async {
        for await (from, bytes) in stream {
            await receiveDatagram(bytes, from: from)
        }
    }

    /// A new channel: a fresh send key for this peer, announced over the channel.
    func openDatagrams(for session: PeerSession) {
        guard signalState.udp != nil else { return }
        var peer = DatagramPeer(sender: DatagramSender(nowMs: clock.monotonicMs()))
        if let announcement = peer.sender.takeAnnouncement(udpPort: UInt16(clamping: signalState.udpPort)) {
            var frame = Hark_V1_Frame()
            frame.datagramKey = announcement
            session.send(frame)
        }
        peerTable.links[session.id]?.datagram = peer
    }

    /// The peer announced its send key (`Frame.datagram_key`).
    /// - Throws: `ProtocolViolation` for a malformed announcement.
    func receiveDatagramKey(_ key: Hark_V1_DatagramKey, from session: PeerSession) throws {
        guard var peer = peerTable.links[session.id]?.datagram else { return }   // no UDP here: ignore
        do { try peer.receiver.install(key, nowMs: clock.monotonicMs()) } catch {
            throw ProtocolViolation("bad datagram key: \(error)")
        }
        peer.address = key.udpPort == 0 ? nil : udpAddress(of: session, port: Int(key.udpPort))
        peerTable.links[session.id]?.datagram = peer
    }

    /// The peer's UDP address: the channel's remote IP with `port`, in the family of our socket.
    func udpAddress(of session: PeerSession, port: Int) -> SocketAddress? {
        guard let remote = session.remoteSocketAddress, let ip = remote.ipAddress else { return nil }
        switch remote {
        case .v4 where signalState.udpIsIPv6: return try? SocketAddress(ipAddress: "::ffff:" + ip, port: port)
        case .v4: return try? SocketAddress(ipAddress: ip, port: port)
        case .v6 where !signalState.udpIsIPv6:
            guard ip.hasPrefix("::ffff:") else { return nil }
            return try? SocketAddress(ipAddress: String(ip.dropFirst(7)), port: port)
        case .v6:
            var copy = remote
            copy.port = port
            return copy
        default: return nil
        }
    }

    /// Sends `datagram` on every channel that shares `group` (all channels when nil).
    func broadcastDatagram(_ datagram: Hark_V1_Datagram, group: EventID?, except: UInt64? = nil) {
        sendDatagram(datagram, toEach: peerTable.ids.filter { $0 != except }, group: group)
    }

    /// Sends `datagram` on each of `channels` that shares `group` (each, when nil): sealed for
    /// each here, then written in one hand-over to the socket's event loop and flushed once (NIO
    /// sends the batch with one `sendmmsg`), instead of one wake-up of that loop per peer.
    func sendDatagram(_ datagram: Hark_V1_Datagram, toEach channels: [UInt64], group: EventID?) {
        guard let udp = signalState.udp else { return }
        let batch = channels.compactMap { id -> AddressedEnvelope<[UInt8]>? in
            if let group, !(peerTable.links[id]?.sharedGroups.contains(group) ?? false) { return nil }
            return sealDatagram(datagram, to: id)
        }
        write(batch, on: udp)
    }

    /// `datagram` sealed under the send key of `sessionID`'s peer, with its UDP address; nil when
    /// that peer has no key or address yet. Announces a rotated key over the channel first.
    private func sealDatagram(_ datagram: Hark_V1_Datagram, to sessionID: UInt64) -> AddressedEnvelope<[UInt8]>? {
        guard var peer = peerTable.links[sessionID]?.datagram, let address = peer.address,
              let session = peerTable[sessionID] else { return nil }
        let now = clock.monotonicMs()
        if peer.sender.rotateIfDue(nowMs: now) { logger.debug("datagram key rotated", metadata: ["peer.id": "\(session.peerID)"]) }
        if let announcement = peer.sender.takeAnnouncement(udpPort: UInt16(clamping: signalState.udpPort)) {
            var frame = Hark_V1_Frame()
            frame.datagramKey = announcement
            session.send(frame)
        }
        let packet: [UInt8]
        do { packet = try peer.sender.seal(datagram, nowMs: now) } catch {
            logger.error("cannot seal a datagram", metadata: ["error": "\(error)"])
            return nil
        }
        peerTable.links[sessionID]?.datagram = peer
        signalState.datagramCounters.sent += 1
        return AddressedEnvelope(remoteAddress: address, data: packet)
    }

    /// Writes `packets` on the UDP socket in one task on its event loop, flushed once.
    private func write(_ packets: [AddressedEnvelope<[UInt8]>], on udp: any Channel) {
        guard !packets.isEmpty else { return }
        udp.eventLoop.execute {
            for p in packets {
                var buffer = udp.allocator.buffer(capacity: p.data.count)
                buffer.writeBytes(p.data)
                udp.write(AddressedEnvelope(remoteAddress: p.remoteAddress, data: buffer), promise: nil)
            }
            udp.flush()
        }
    }

    /// One datagram from the network. Authenticated (key_id, replay window, AEAD) before
    /// anything changes; anything else is counted and dropped.
    func receiveDatagram(_ packet: [UInt8], from address: SocketAddress) {
        guard let keyID = DatagramHeader.keyID(of: packet) else { signalState.datagramCounters.malformed += 1; return }
        let now = clock.monotonicMs()
        // The channels whose receive key has this key_id (first, so that the loop below may change
        // `links` in place without copying the table).
        let candidates = peerTable.links.compactMap { id, link -> UInt64? in
            guard let receiver = link.datagram?.receiver,
                  receiver.currentKeyID == keyID || receiver.previousKeyID(nowMs: now) == keyID else { return nil }
            return id
        }
        let sawKey = !candidates.isEmpty
        for id in candidates {
            guard var receiver = peerTable.links[id]?.datagram?.receiver else { continue }
            let datagram: Hark_V1_Datagram
            do { datagram = try receiver.open(packet, nowMs: now) } catch {
                // The window is only advanced by authentic packets, so an authentic but malformed
                // one still consumed its counter: keep the receiver in that case.
                if case .malformed = error { peerTable.links[id]?.datagram?.receiver = receiver }
                count(error)
                if case .authenticationFailed = error { continue }   // maybe another peer's key_id
                return
            }
            peerTable.links[id]?.datagram?.receiver = receiver
            signalState.datagramCounters.accepted += 1
            guard let session = peerTable[id] else { return }
            apply(datagram, from: session)
            return
        }
        if !sawKey { signalState.datagramCounters.unknownKey += 1 }
    }

    private func count(_ error: DatagramError) {
        switch error {
        case .replayed, .tooOld: signalState.datagramCounters.replayed += 1
        case .unknownKey: signalState.datagramCounters.unknownKey += 1
        case .authenticationFailed: signalState.datagramCounters.authenticationFailed += 1
        default: signalState.datagramCounters.malformed += 1
        }
    }

    /// An authentic datagram from the peer of `session`.
    func apply(_ datagram: Hark_V1_Datagram, from session: PeerSession) {
        switch datagram.datagram {
        case let .presence(p)?: receivePresence(p, from: session)
        case let .typing(t)?:
            guard let group = try? EventID(bytes: [UInt8](t.groupID)), isShared(group, with: session) else { return }
            receiveTyping(group: group, active: t.active, from: session)
        case let .headHint(h)?:
            guard let group = try? EventID(bytes: [UInt8](h.groupID)), isShared(group, with: session),
                  let head = try? EventID(bytes: [UInt8](h.head)) else { return }
            receiveHeadHint(head, group: group, from: session)
        case nil: break
        }
    }

    /// "I have this head": note it for receipts, and pull it over the channel if it is new here.
    func receiveHeadHint(_ head: EventID, group: EventID, from session: PeerSession) {
        noteHolds(peer: session.peerID.key, group: group, adding: head)
        let known = (try? store.contains(head)) ?? true
        if !known, !logState.isWaiting(head, group: group), !logState.isRejected(head, group: group) {
            requestEvents([head], group: group, from: session)
        }
    }

    /// Tells every other channel sharing the group that this node now holds `event`.
    func hintHead(_ event: Event, group: EventID, except: PeerSession?) {
        broadcastDatagram(headHint(event, group: group), group: group, except: except?.id)
    }

    /// Tells these channels (sharing the group) that this node now holds `event`.
    func hintHead(_ event: Event, group: EventID, only channels: [UInt64]) {
        sendDatagram(headHint(event, group: group), toEach: channels, group: group)
    }

    private func headHint(_ event: Event, group: EventID) -> Hark_V1_Datagram {
        var hint = Hark_V1_HeadHint()
        hint.groupID = Data(group.bytes)
        hint.head = Data(event.id.bytes)
        hint.lamport = event.lamport
        var d = Hark_V1_Datagram()
        d.headHint = hint
        return d
    }
}
