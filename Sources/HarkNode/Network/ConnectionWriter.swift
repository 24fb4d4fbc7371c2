import HarkWire
import HarkWireProto
import NIOCore

extension Node {
    /// The channel's writer: seals the session's queued frames and writes them in order, until
    /// the queue ends (the session closed) or a write fails (then it closes the session). All
    /// records of one frame go in one write; an attachment goes right behind its frame, in the
    /// same write and without a copy, joined by bulk slices already queued, up to
    /// `Node.bulkWriteBytes` and only while no control frame waits.
    nonisolated func writeLoop(_ session: PeerSession, records: RecordBox, to outbound: PeerOutbound,
                               channel: any Channel) async {
        while let item = await session.next() {
            do {
                var out = channel.allocator.buffer(capacity: 0)
                try records.seal(item.frame, into: &out)
                FrameTraffic.shared.record(item.frame, bytes: out.readableBytes)
                if let attachment = item.attachment {
                    try writeAttachmentHeader(byteCount: attachment.readableBytes, into: &out)
                    // One hand-off to the event loop and one writev for the slices.
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
                logger.info("peer write failed", metadata: ["peer.id": "\(session.peerID)", "error": "\(error)"])
                session.close()
                return
            }
        }
    }
}
