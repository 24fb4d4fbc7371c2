import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkWireProto
import Testing
@testable import HarkNode

/// Signatures of an Events frame are checked off the actor, in slices on several cores: the
/// result keeps the frame's order and reports a bad event wherever it sits.
@Suite struct ConcurrentDecodingTests {
    /// A chain of `count` signed events (genesis first).
    private func chain(_ count: Int) throws -> [Event] {
        let author = SigningKeyPair.generate()
        let key = SecureRandom.bytes(32)
        var c = Hark_V1_Content()
        c.genesis.name = "intake"
        let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: author, seq: 1, selfParent: nil, parents: [], wallMs: 1,
                                           body: try BodyCipher.seal(c, groupKey: key, groupID: nil, author: author.publicKey, seq: 1))
        var out = [genesis]
        for i in 1..<count {
            var t = Hark_V1_Content()
            t.text.text = "m\(i)"
            let seq = UInt64(i + 1)
            out.append(try EventAuthor.make(kind: .message, groupID: genesis.id, author: author, seq: seq, selfParent: out.last, parents: [],
                                            wallMs: Int64(i), body: try BodyCipher.seal(t, groupKey: key, groupID: genesis.id, author: author.publicKey, seq: seq)))
        }
        return out
    }

    @Test func decodesInFrameOrder() async throws {
        let events = try chain(300)
        let decoded = try await ConcurrentDecoding.decode(events.map(\.signedEvent)).get()
        #expect(decoded.map(\.id) == events.map(\.id))
    }

    @Test(arguments: [0, 5, 150, 299])
    func aBadSignatureAnywhereFailsTheFrame(at index: Int) async throws {
        var signed = try chain(300).map(\.signedEvent)
        var sig = [UInt8](signed[index].sig)
        sig[0] ^= 1
        signed[index].sig = Data(sig)
        let result = await ConcurrentDecoding.decode(signed)
        guard case let .failure(error) = result else { Issue.record("a forged signature was accepted"); return }
        #expect(error == .badSignature)
    }

    /// Which waiting frames are delivered together: back-to-back Events frames of one group,
    /// never a §6.4 push, never across another frame or group.
    @Test func mergesBackToBackEventsFramesOfOneGroup() {
        let none = Task<Result<[Event], EventError>, Never> { .success([]) }
        let g1 = Data([1]), g2 = Data([2])
        func events(_ g: Data, push: Bool = false) -> InboundFrames.Work { .events(groupID: g, push: push, decoded: none) }
        let other = InboundFrames.Work.frame(Hark_V1_Frame())
        #expect(InboundFrames.runs([]) == [])
        #expect(InboundFrames.runs([events(g1), events(g1), events(g1)]) == [0..<3])
        #expect(InboundFrames.runs([events(g1), events(g2), events(g2)]) == [0..<1, 1..<3])
        #expect(InboundFrames.runs([events(g1), other, events(g1)]) == [0..<1, 1..<2, 2..<3])
        #expect(InboundFrames.runs([events(g1), events(g1, push: true), events(g1)]) == [0..<1, 1..<2, 2..<3])
        #expect(InboundFrames.runs([events(g1, push: true), events(g1, push: true)]) == [0..<1, 1..<2])
    }
}
