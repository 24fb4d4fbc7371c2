// One peer connection from handshake to close (`runConnection`): the Noise handshake under its
// deadline, then the session's keepalive, writer and reader tasks. `RecordBox` holds the
// channel's record layer under a Mutex, shared by its reader and writer; thread-safe.

import Foundation
import HarkCrypto
import HarkNoise
import HarkProto
import HarkWire
import Logging
import NIOCore
import Synchronization

extension Node {
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
                            try? await self.clock.sleep(ms: self.configuration.keepaliveIntervalMs)
                            if Task.isCancelled { break }
                            if session.silenceMs > self.configuration.idleTimeoutMs {
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
