import HarkWireProto
import NIOCore
import Testing
@testable import HarkNode

/// The writer's batching of queued chunk slices (`PeerSession.Outbox.popBulk(fitting:)`): slices
/// join a write only while no control frame waits, in order, and up to the byte limit.
@Suite struct BulkWriteBatchTests {
    static func slice(_ n: Int) -> Outgoing {
        var d = Hark_V1_ChunkData()
        d.chunk = UInt32(n)
        var f = Hark_V1_Frame()
        f.chunkData = d
        return Outgoing(frame: f, attachment: ByteBuffer(repeating: UInt8(n), count: 1000 + n))
    }

    @Test func slicesJoinInOrderUpToTheLimitAndNeverAheadOfAControlFrame() {
        var o = PeerSession.Outbox()
        for n in 0..<3 {
            let s = Self.slice(n)
            o.bulk.append((s, 1000 + n))
            o.bulkBytes += 1000 + n
        }
        let (first, _) = o.pop()
        #expect(first?.frame.chunkData.chunk == 0)
        let (tooBig, _) = o.popBulk(fitting: 1000)
        #expect(tooBig == nil, "slice 1 has 1001 bytes: it waits for the next write")
        #expect(o.bulk.count == 2 && o.bulkBytes == 1001 + 1002)

        var ping = Hark_V1_Frame()
        ping.ping = Hark_V1_Ping()
        o.control.append(ping)
        let (behindControl, _) = o.popBulk(fitting: .max)
        #expect(behindControl == nil, "a control frame waits: it is written first, not behind more slices")
        let (control, _) = o.pop()
        #expect(control?.attachment == nil)

        let (second, _) = o.popBulk(fitting: 1001)
        #expect(second?.frame.chunkData.chunk == 1)
        let (third, _) = o.popBulk(fitting: .max)
        #expect(third?.frame.chunkData.chunk == 2)
        let (none, _) = o.popBulk(fitting: .max)
        #expect(none == nil && o.bulkBytes == 0)
    }
}
