import HarkWire
import HarkWireProto
import NIOCore

extension Node {
    /// The channel's reader: opens records and hands whole frames to the node, in order, through
    /// `InboundFrames` (which checks the signatures of Events frames ahead of delivery, off the
    /// actor). A ChunkData frame waits for its attachment (PROTOCOL.md §3.2); both then go
    /// straight to the fetch, never through the actor. Returns when the peer closes, sends a
    /// Close frame or something the channel must not carry (logged), or the node stops.
    nonisolated func readLoop(_ session: PeerSession, records: RecordBox, from iterator: inout PeerInbound.AsyncIterator,
                              remote: String) async {
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
                    // Once the frames before it were handled.
                    guard await inbound.drain() else { break reading }
                    try await files.receiveBulk(header, sealed: bytes, from: session)
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
                    logger.info("peer closed the channel", metadata: ["peer.id": "\(session.peerID)", "reason": "\(c.reason)"])
                    break
                }
                guard await inbound.submit(frame) else { break reading }
            }
            await inbound.finish()
        } catch where error is CancellationError || Task.isCancelled {
            // The node is stopping: not the peer's doing.
            inbound.cancel()
            logger.debug("closing peer connection (node stopping)", metadata: ["peer.id": "\(session.peerID)"])
        } catch {
            inbound.cancel()
            logger.warning("dropping peer connection", metadata: [
                "peer.id": "\(session.peerID)", "peer.address": "\(remote)", "reason": "\(error)",
            ])
        }
    }
}
