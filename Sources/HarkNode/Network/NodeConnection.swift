// One peer connection from handshake to close (`runConnection`): the Noise handshake under its
// deadline (ConnectionHandshake.swift), then the channel's keepalive (ConnectionKeepalive.swift),
// writer (ConnectionWriter.swift) and reader (ConnectionReader.swift) as three tasks of one group;
// when the reader ends, the others are cancelled and the session is closed in one place
// (`closeSession`). `RecordBox` holds the channel's record layer under a Mutex, shared by its
// reader and writer; thread-safe.

import Foundation
import HarkCrypto
import HarkNoise
import HarkWire
import HarkWireProto
import Logging
import NIOCore
import Synchronization

typealias PeerInbound = NIOAsyncChannelInboundStream<StreamUnit>
typealias PeerOutbound = NIOAsyncChannelOutboundWriter<ByteBuffer>

extension Node {
    /// Handshake, then the session's keepalive, writer and reader, until the channel closes. An
    /// inbound connection holds its `admission` ticket until the handshake is over, and must
    /// complete it by the ticket's deadline; an outbound one within `handshakeTimeoutMs`.
    /// - Returns: whether the handshake completed.
    @discardableResult
    nonisolated func runConnection(_ connection: PeerChannel, role: NoiseRole, remote: String, source: String,
                                   admission: HandshakeAdmission.Ticket? = nil) async -> Bool {
        defer { if let admission { pendingHandshakes.release(admission) } }
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
                let (hello, records) = try await self.handshake(role: role, reading: &iterator, writing: outbound)
                deadline.cancel()
                if let admission { self.pendingHandshakes.release(admission) }
                await self.settleMovedDuplicate(hello: hello, remoteIP: channel.remoteAddress?.ipAddress)
                guard let session = await self.openSession(hello: hello, role: role, remote: remote, source: source,
                                                           channel: channel) else {
                    return
                }
                completed = true
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.keepalive(session) }
                    group.addTask { await self.writeLoop(session, records: records, to: outbound, channel: channel) }
                    await self.readLoop(session, records: records, from: &iterator, remote: remote)
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
