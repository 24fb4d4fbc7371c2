import Foundation
import HarkControl
import HarkCrypto
import HarkLog
@testable import HarkNode
import HarkEventProto
import HarkStore
import HarkNoise
import HarkWire
import HarkWireProto
import SwiftProtobuf
import Testing

/// A member that speaks the protocol and lies (the malicious peer suite). In every case:
/// nothing invalid is stored, the liar's channel is dropped or ignored, the daemon stays up, and
/// an honest peer still syncs.
@Suite(.serialized) struct MaliciousPeerTests {
    /// A node holding group "ops" with one message, and the group's record.
    func target(_ name: String) async throws -> (RunningNode, Store.GroupRecord) {
        let n = try await RunningNode.start(name)
        _ = try await n.node.createGroup(name: "ops")
        _ = try await n.node.sendMessage(group: "ops", text: "honest history")
        return (n, try await n.node.resolveGroup("ops"))
    }

    func text(_ t: String) -> Hark_V1_Content {
        var c = Hark_V1_Content(); var x = Hark_V1_Text(); x.text = t; c.text = x; return c
    }

    func eventsFrame(_ g: Store.GroupRecord, _ signed: [Hark_V1_SignedEvent]) -> Hark_V1_Frame {
        var events = Hark_V1_Events()
        events.groupID = Data(g.id.bytes)
        events.events = signed
        var f = Hark_V1_Frame()
        f.events = events
        return f
    }

    /// Joins `g` from a fresh honest node and checks it receives the honest history.
    func honestPeerStillSyncs(with n: RunningNode) async throws -> Bool {
        let token = try await n.node.invite(group: "ops").token
        let h = try await RunningNode.start("honest", staticPeers: ["127.0.0.1:\(n.port)"])
        var ok = false
        try await withNodes([h]) {
            _ = try await h.node.join(token: token)
            // The honest history arrives (readable or not: it predates the join), and a message
            // written after the join reads fine.
            let all = try await storedCountOf(n, group: "ops")
            guard await eventually(10, { (try? await storedCountOf(h, group: "ops")) ?? 0 >= all }) else { return }
            _ = try await n.node.sendMessage(group: "ops", text: "honest news")
            ok = await eventually(10) {
                (try? await h.node.log(group: "ops", limit: nil))?.contains { $0.text == "honest news" } ?? false
            }
        }
        return ok
    }

    func storedCountOf(_ n: RunningNode, group: String) async throws -> Int {
        let g = try await n.node.resolveGroup(group)
        return try n.node.store.eventCount(group: g.id)
    }

    func storedCount(_ n: RunningNode, _ g: Store.GroupRecord) async throws -> Int {
        try n.node.store.eventCount(group: g.id)
    }

    @Test func forgedSignatureAndWrongAuthorAreRefused() async throws {
        let (n, g) = try await target("m1")
        try await withNodes([n]) {
            let mallory = SigningKeyPair.generate()
            try await n.node.addMember(group: "ops", key: mallory.publicKey)   // a member gone bad
            let before = try await storedCount(n, g)
            let head = try #require(try n.node.store.event(try n.node.store.heads(group: g.id)[0]))
            // A real event by mallory, with its signature replaced by one over another ID.
            let body = try BodyCipher.seal(text("forged"), groupKey: g.key, groupID: g.id, author: mallory.publicKey, seq: 1)
            let e = try EventAuthor.make(kind: .message, groupID: g.id, author: mallory, seq: 1, selfParent: nil,
                                         parents: [head], wallMs: 1, body: body)
            var forged = e.signedEvent
            forged.sig = Data(mallory.signature(for: Array("hark-event-sig-v1".utf8) + SecureRandom.bytes(32)))
            var (s, r) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
            for m in try r.seal(eventsFrame(g, [forged])) { s.writeMessage(m) }
            #expect(await s.closedByPeer())
            // Claiming the node's own identity as author, signed by mallory.
            var header = e.header
            header.author = Data(n.node.identity.signing.publicKey.bytes)
            let bytes: [UInt8] = try header.serializedBytes()
            let impostor = EventAuthor.sign(headerBytes: bytes, body: body, key: mallory)
            (s, r) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
            for m in try r.seal(eventsFrame(g, [impostor])) { s.writeMessage(m) }
            #expect(await s.closedByPeer())
            #expect(try await storedCount(n, g) == before)
            #expect(try await honestPeerStillSyncs(with: n))
        }
    }

    @Test func wrongLamportIsRejectedAndRemembered() async throws {
        let (n, g) = try await target("m2")
        try await withNodes([n]) {
            let mallory = SigningKeyPair.generate()
            try await n.node.addMember(group: "ops", key: mallory.publicKey)   // a member gone bad
            let before = try await storedCount(n, g)
            let head = try #require(try n.node.store.event(try n.node.store.heads(group: g.id)[0]))
            let body = try BodyCipher.seal(text("from the future"), groupKey: g.key, groupID: g.id, author: mallory.publicKey, seq: 1)
            let honest = try EventAuthor.make(kind: .message, groupID: g.id, author: mallory, seq: 1, selfParent: nil,
                                              parents: [head], wallMs: 1, body: body)
            var header = honest.header
            header.lamport += 1000   // jumps ahead of everyone in the total order
            let bytes: [UInt8] = try header.serializedBytes()
            let liar = EventAuthor.sign(headerBytes: bytes, body: body, key: mallory)
            let liarID = EventID(hashingHeader: bytes)
            var (s, r) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
            for m in try r.seal(eventsFrame(g, [liar])) { s.writeMessage(m) }
            #expect(await s.closedByPeer())
            #expect(try await storedCount(n, g) == before)
            #expect(try n.node.store.isRejected(liarID))
            // Sending it again is refused at once.
            (s, r) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
            for m in try r.seal(eventsFrame(g, [liar])) { s.writeMessage(m) }
            #expect(await s.closedByPeer())
            #expect(try await honestPeerStillSyncs(with: n))
        }
    }

    @Test func parentsThatNeverResolveDeliverNothing() async throws {
        let (n, g) = try await target("m3")
        try await withNodes([n]) {
            let mallory = SigningKeyPair.generate()
            try await n.node.addMember(group: "ops", key: mallory.publicKey)   // a member gone bad
            let before = try await storedCount(n, g)
            // A validly signed event whose parent is an ID nobody has (a fake parent event).
            let fakeParentKey = SigningKeyPair.generate()
            let fakeBody = try BodyCipher.seal(text("never sent"), groupKey: g.key, groupID: g.id, author: fakeParentKey.publicKey, seq: 1)
            let head = try #require(try n.node.store.event(try n.node.store.heads(group: g.id)[0]))
            let fakeParent = try EventAuthor.make(kind: .message, groupID: g.id, author: fakeParentKey, seq: 1, selfParent: nil,
                                                  parents: [head], wallMs: 1, body: fakeBody)
            let body = try BodyCipher.seal(text("orphan"), groupKey: g.key, groupID: g.id, author: mallory.publicKey, seq: 1)
            let orphan = try EventAuthor.make(kind: .message, groupID: g.id, author: mallory, seq: 1, selfParent: nil,
                                              parents: [fakeParent], wallMs: 1, body: body)
            let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
            var r = records
            for m in try r.seal(eventsFrame(g, [orphan.signedEvent])) { s.writeMessage(m) }
            // The node asks for the missing parent; the liar never answers.
            var asked = false
            for _ in 0..<20 {
                guard let m = await s.nextMessage(), let f = try r.open(m) else { break }
                if case let .needs(needs)? = f.frame, needs.ids.contains(Data(fakeParent.id.bytes)) { asked = true; break }
            }
            #expect(asked)
            #expect(try await storedCount(n, g) == before)
            #expect(try await n.node.log(group: "ops", limit: nil).map(\.text) == ["honest history"])
            #expect(try await honestPeerStillSyncs(with: n))
        }
    }

    @Test func replayedRecordIsRefused() async throws {
        let (n, g) = try await target("m4")
        try await withNodes([n]) {
            let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: SigningKeyPair.generate())
            var r = records
            var ping = Hark_V1_Frame()
            ping.ping = Hark_V1_Ping()
            let sealed = try r.seal(ping)
            s.writeMessage(sealed[0])
            s.writeMessage(sealed[0])   // the same ciphertext again: its nonce is spent
            #expect(await s.closedByPeer())
            #expect(await n.node.status().groups == 1)
        }
    }

    @Test func floodOfBogusNeedsLeavesTheNodeServing() async throws {
        let (n, g) = try await target("m5")
        try await withNodes([n]) {
            let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: SigningKeyPair.generate())
            var r = records
            for _ in 0..<200 {
                var needs = Hark_V1_Needs()
                needs.groupID = Data(g.id.bytes)
                needs.ids = (0..<1024).map { _ in Data(SecureRandom.bytes(32)) }
                needs.maxAncestors = 1024
                var f = Hark_V1_Frame()
                f.needs = needs
                for m in try r.seal(f) { s.writeMessage(m) }
            }
            // One Needs over the limit is a protocol violation.
            var big = Hark_V1_Needs()
            big.groupID = Data(g.id.bytes)
            big.ids = (0..<1025).map { _ in Data(SecureRandom.bytes(32)) }
            var f = Hark_V1_Frame()
            f.needs = big
            for m in try r.seal(f) { s.writeMessage(m) }
            #expect(await s.closedByPeer())
            #expect(await n.node.status().groups == 1)
            #expect(try await honestPeerStillSyncs(with: n))
        }
    }

    @Test func oversizedFrameIsRefused() async throws {
        let (n, _) = try await target("m6")
        try await withNodes([n]) {
            let (s, transport) = try await rawChannel(to: n)
            var t = transport
            // 17 full "more fragments follow" records: 1.1 MB, past the 1 MiB reassembly limit.
            let record = [0x01] + [UInt8](repeating: 0x41, count: WireLimits.maxFragmentByteCount)
            for _ in 0..<17 { s.writeMessage(try t.encrypt(record)) }
            #expect(await s.closedByPeer())
            #expect(await n.node.status().groups == 1)
        }
    }

    /// A completed handshake and the raw Noise transport, for records no honest peer would seal.
    func rawChannel(to n: RunningNode) async throws -> (RawPeerSocket, NoiseTransport) {
        let local = LocalHello(identity: SigningKeyPair.generate(), noiseStatic: AgreementKeyPair.generate(), displayName: "raw",
                               instanceToken: SecureRandom.bytes(8), listenPort: 0)
        var driver = HandshakeDriver(role: .initiator, local: local)
        let s = try RawPeerSocket(port: n.port)
        s.writeMessage(try driver.start()!)
        while !driver.isComplete {
            guard let m = await s.nextHandshakeMessage() else { throw TestPeerError("closed during handshake (or no answer in 30 s)") }
            switch try driver.receive(m) {
            case let .send(out): s.writeMessage(out)
            case let .sendAndComplete(out, _): s.writeMessage(out)
            case .complete: break
            }
        }
        return (s, try driver.transport())
    }
}
