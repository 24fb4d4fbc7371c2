import Foundation
import HarkCrypto
import HarkNoise
import HarkWire
import HarkWireProto
import Testing

@Suite("Handshake driver")
struct HandshakeDriverTests {
    @Test("both roles complete and each learns the other's verified hello")
    func completes() throws {
        let alice = makeHello(name: "alice ☕", port: 5000), bob = makeHello(name: "bob", port: 0)
        let (i, r, seenByAlice, seenByBob) = try completeHandshake(alice, bob)
        #expect(seenByAlice.peerID == PeerID(bob.identity.publicKey))
        #expect(seenByAlice.displayName == "bob" && seenByAlice.listenPort == 0)
        #expect(seenByAlice.instanceToken == bob.instanceToken)
        #expect(seenByAlice.remoteStaticKey == bob.noiseStatic.publicKey)
        #expect(seenByBob.peerID == PeerID(alice.identity.publicKey))
        #expect(seenByBob.displayName == "alice ☕" && seenByBob.listenPort == 5000)
        #expect(seenByBob.instanceToken == alice.instanceToken)
        #expect(seenByBob.remoteStaticKey == alice.noiseStatic.publicKey)
        #expect(seenByAlice.handshakeHash == seenByBob.handshakeHash && seenByAlice.handshakeHash.count == 32)
        #expect(i.peer == seenByAlice && r.peer == seenByBob)
        var ti = try i.transport(), tr = try r.transport()
        #expect(ti.handshakeHash == seenByAlice.handshakeHash)
        #expect(try tr.decrypt(try ti.encrypt([1, 2, 3])) == [1, 2, 3])
    }

    @Test("message 1 is 32 bytes with an empty payload; the responder sends nothing on start")
    func messageOne() throws {
        var i = HandshakeDriver(role: .initiator, local: makeHello())
        let m1 = try #require(try i.start())
        #expect(m1.count == 32)
        #expect(throws: HandshakeError.alreadyStarted) { _ = try i.start() }
    }

    @Test("a peer that signs something else is refused as invalidIdentitySignature", arguments: [false, true])
    func wrongSignature(responderLies: Bool) throws {
        // The liar signs a different Noise static key with its real identity: a replayed binding.
        var liar = makeHello(name: "mallory")
        liar.identitySignatureOverride = HandshakePayloadCodec.identitySignature(
            identity: liar.identity, noiseStaticPublicKey: AgreementKeyPair.generate().publicKey)
        let honest = makeHello()
        var i = HandshakeDriver(role: .initiator, local: responderLies ? honest : liar)
        var r = HandshakeDriver(role: .responder, local: responderLies ? liar : honest)
        _ = try r.start()
        guard case let .send(m2) = try r.receive(try #require(try i.start())) else { Issue.record("no message 2"); return }
        if responderLies {
            #expect(throws: HandshakeError.invalidIdentitySignature) { _ = try i.receive(m2) }
            #expect(throws: HandshakeError.aborted) { _ = try i.receive(m2) }
        } else {
            guard case let .sendAndComplete(m3, _) = try i.receive(m2) else { Issue.record("no message 3"); return }
            #expect(throws: HandshakeError.invalidIdentitySignature) { _ = try r.receive(m3) }
            #expect(!r.isComplete)
            #expect(throws: HandshakeError.notComplete) { _ = try r.transport() }
        }
    }

    @Test("a signature of the wrong size is a malformed payload")
    func shortSignature() throws {
        var i = HandshakeDriver(role: .initiator, local: makeHello())
        var r = HandshakeDriver(role: .responder, local: makeHello(signatureOverride: [1, 2, 3]))
        _ = try r.start()
        guard case let .send(m2) = try r.receive(try #require(try i.start())) else { Issue.record("no message 2"); return }
        #expect {
            _ = try i.receive(m2)
        } throws: { error in
            guard case let .malformedPayload(why)? = error as? HandshakeError else { return false }
            return why.contains("identity_sig")
        }
    }

    @Test("garbage instead of message 1 or message 2 is an error, not a crash", arguments: [0, 5, 31, 32, 100, 2000])
    func garbage(length: Int) throws {
        let junk = SecureRandom.bytes(length)
        var r = HandshakeDriver(role: .responder, local: makeHello())
        _ = try r.start()
        if length == 32 {
            // Any 32 bytes are an ephemeral key with an empty clear payload: Noise cannot tell.
            guard case .send = try r.receive(junk) else { Issue.record("responder did not answer"); return }
        } else if length > 32 {
            #expect(throws: HandshakeError.malformedPayload("message 1 payload must be empty, got \(length - 32) bytes")) {
                _ = try r.receive(junk)
            }
        } else {
            #expect(throws: HandshakeError.noise(.messageTooShort(byteCount: length, minimum: 32))) { _ = try r.receive(junk) }
        }
        var i = HandshakeDriver(role: .initiator, local: makeHello())
        _ = try i.start()
        #expect(throws: HandshakeError.self) { _ = try i.receive(junk) }
        #expect(throws: HandshakeError.aborted) { _ = try i.receive(junk) }
    }

    @Test("messages out of turn are unexpected")
    func unexpected() throws {
        var r = HandshakeDriver(role: .responder, local: makeHello())
        #expect(throws: HandshakeError.unexpectedMessage) { _ = try r.receive([UInt8](repeating: 1, count: 32)) }
        let (i, _, _, _) = try completeHandshake(makeHello(), makeHello())
        var done = i
        #expect(throws: HandshakeError.unexpectedMessage) { _ = try done.receive([1]) }
    }

    @Test("our own invalid hello is reported, and a peer's oversize display name is refused")
    func displayNameLimit() throws {
        let long = String(repeating: "é", count: 33)   // 66 bytes of UTF-8
        var i = HandshakeDriver(role: .initiator, local: makeHello())
        var r = HandshakeDriver(role: .responder, local: makeHello(name: long))
        _ = try r.start()
        let m1 = try #require(try i.start())
        #expect {
            _ = try r.receive(m1)
        } throws: { error in
            guard case .invalidLocalHello? = error as? HandshakeError else { return false }
            return true
        }
        // A peer that bypasses the codec: build its payload by hand with a 65-byte name.
        let liar = makeHello()
        var payload = Hark_V1_HandshakePayload()
        payload.identityKey = Data(liar.identity.publicKey.bytes)
        payload.identitySig = Data(HandshakePayloadCodec.identitySignature(identity: liar.identity, noiseStaticPublicKey: liar.noiseStatic.publicKey))
        payload.displayName = String(repeating: "x", count: 65)
        payload.instanceToken = Data(repeating: 1, count: 8)
        let bytes: [UInt8] = try payload.serializedBytes()
        #expect {
            _ = try HandshakePayloadCodec.verifyPayload(bytes, remoteStaticKey: liar.noiseStatic.publicKey, handshakeHash: [])
        } throws: { error in
            guard case let .malformedPayload(why)? = error as? HandshakeError else { return false }
            return why.contains("display_name")
        }
        payload.displayName = "ok"
        let good: [UInt8] = try payload.serializedBytes()
        let hello = try HandshakePayloadCodec.verifyPayload(good, remoteStaticKey: liar.noiseStatic.publicKey, handshakeHash: [])
        #expect(hello.peerID == PeerID(liar.identity.publicKey))
        #expect(throws: HandshakeError.payloadTooLarge(1025)) {
            _ = try HandshakePayloadCodec.verifyPayload([UInt8](repeating: 0, count: 1025), remoteStaticKey: liar.noiseStatic.publicKey, handshakeHash: [])
        }
        #expect(throws: HandshakeError.invalidIdentitySignature) {
            _ = try HandshakePayloadCodec.verifyPayload(good, remoteStaticKey: AgreementKeyPair.generate().publicKey, handshakeHash: [])
        }
    }
}
