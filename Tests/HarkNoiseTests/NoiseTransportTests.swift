import HarkCrypto
import Testing
@testable import HarkNoise

@Suite("Noise transport")
struct NoiseTransportTests {
    private func transports() throws -> (NoiseTransport, NoiseTransport) {
        var pair = HandshakePair()
        try pair.run()
        return (try pair.initiator.split(), try pair.responder.split())
    }

    @Test("messages round-trip in both directions, sizes 0…65519")
    func roundTrip() throws {
        var (i, r) = try transports()
        for size in [0, 1, 100, 65519] {
            let a = SecureRandom.bytes(size), b = SecureRandom.bytes(size)
            let ca = try i.encrypt(a)
            #expect(ca.count == size + 16)
            #expect(try r.decrypt(ca) == a)
            #expect(try i.decrypt(try r.encrypt(b)) == b)
        }
        #expect(i.sentMessageCount == 4 && r.receivedMessageCount == 4)
    }

    @Test("the two directions use different keys")
    func directionsDiffer() throws {
        var (i, r) = try transports()
        let fromInitiator = try i.encrypt([1, 2, 3])
        var initiatorCopy = i
        // A message can only be opened by the other side, never reflected back to its sender.
        #expect(throws: NoiseError.decryptFailed) { _ = try initiatorCopy.decrypt(fromInitiator) }
        #expect(try r.decrypt(fromInitiator) == [1, 2, 3])
    }

    @Test("a flipped bit, a replay or a reordering is refused")
    func tamperAndReplay() throws {
        var (i, r) = try transports()
        let m0 = try i.encrypt(Array("first".utf8)), m1 = try i.encrypt(Array("second".utf8))
        var flipped = m0; flipped[2] ^= 0x04
        #expect(throws: NoiseError.decryptFailed) { _ = try r.decrypt(flipped) }
        #expect(throws: NoiseError.decryptFailed) { _ = try r.decrypt(m1) }   // out of order
        #expect(try r.decrypt(m0) == Array("first".utf8))
        #expect(throws: NoiseError.decryptFailed) { _ = try r.decrypt(m0) }   // replay
        #expect(try r.decrypt(m1) == Array("second".utf8))
    }

    @Test("oversize plaintext and ciphertext, and short ciphertext, are refused")
    func limits() throws {
        var (i, r) = try transports()
        #expect(throws: NoiseError.messageTooLarge(byteCount: 65520, limit: 65519)) {
            _ = try i.encrypt([UInt8](repeating: 0, count: 65520))
        }
        #expect(throws: NoiseError.messageTooLarge(byteCount: 65536, limit: 65535)) {
            _ = try r.decrypt([UInt8](repeating: 0, count: 65536))
        }
        #expect(throws: NoiseError.messageTooShort(byteCount: 15, minimum: 16)) {
            _ = try r.decrypt([UInt8](repeating: 0, count: 15))
        }
        #expect(i.sentMessageCount == 0 && r.receivedMessageCount == 0)
    }

    @Test("automatic Rekey every 2^16 messages keeps both sides in step (70000 messages each way)")
    func automaticRekey() throws {
        var (i, r) = try transports()
        let total = 70_000
        for n in 0..<total {
            let p: [UInt8] = [UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8)]
            guard try r.decrypt(try i.encrypt(p)) == p, try i.decrypt(try r.encrypt(p)) == p else {
                Issue.record("round trip failed at message \(n)")
                return
            }
        }
        #expect(i.sentMessageCount == UInt64(total) && r.receivedMessageCount == UInt64(total))
        // That the key really changes at message 65536 (and to the right value) is checked
        // against noiseprotocol's Rekey in NoiseKATTests.
    }
}
