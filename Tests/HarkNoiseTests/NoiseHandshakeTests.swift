import HarkCrypto
import Testing
@testable import HarkNoise

@Suite("Noise XX handshake")
struct NoiseHandshakeTests {
    @Test("two instances complete XX, learn each other's static key and agree on h")
    func completes() throws {
        let iStatic = AgreementKeyPair.generate(), rStatic = AgreementKeyPair.generate()
        var pair = HandshakePair(initiatorStatic: iStatic, responderStatic: rStatic)
        #expect(pair.initiator.isMyTurnToWrite && !pair.responder.isMyTurnToWrite)
        try pair.run(payloads: [Array("one".utf8), Array("two".utf8), Array("three".utf8)])
        #expect(pair.payloadsSeenByResponder == [Array("one".utf8), Array("three".utf8)])
        #expect(pair.payloadsSeenByInitiator == [Array("two".utf8)])
        #expect(pair.initiator.isComplete && pair.responder.isComplete)
        #expect(!pair.initiator.isMyTurnToWrite && !pair.responder.isMyTurnToWrite)
        #expect(pair.initiator.remoteStaticKey == rStatic.publicKey)
        #expect(pair.responder.remoteStaticKey == iStatic.publicKey)
        #expect(pair.initiator.handshakeHash == pair.responder.handshakeHash)
        #expect(pair.initiator.handshakeHash.count == 32)
        let ti = try pair.initiator.split(), tr = try pair.responder.split()
        #expect(ti.handshakeHash == pair.initiator.handshakeHash)
        #expect(tr.handshakeHash == ti.handshakeHash)
    }

    @Test("message sizes follow the XX token layout")
    func messageSizes() throws {
        var i = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        var r = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        let m1 = try i.writeMessage(payload: [9, 9])
        #expect(m1.count == 32 + 2)                   // e, clear payload
        _ = try r.readMessage(m1)
        let m2 = try r.writeMessage(payload: [])
        #expect(m2.count == 32 + 48 + 16)             // e, enc(s), enc(payload)
        _ = try i.readMessage(m2)
        let m3 = try i.writeMessage(payload: [1])
        #expect(m3.count == 48 + 1 + 16)              // enc(s), enc(payload)
        #expect(r.remoteStaticKey == nil)
        _ = try r.readMessage(m3)
        #expect(r.remoteStaticKey != nil)
    }

    @Test("a tampered message fails to decrypt and aborts the handshake", arguments: [1, 2])
    func tampered(messageIndex: Int) throws {
        var pair = HandshakePair()
        let m1 = try pair.initiator.writeMessage(payload: [])
        _ = try pair.responder.readMessage(m1)
        var m2 = try pair.responder.writeMessage(payload: [7])
        if messageIndex == 1 {
            m2[40] ^= 0x01   // inside the encrypted static key
            #expect(throws: NoiseError.decryptFailed) { _ = try pair.initiator.readMessage(m2) }
        } else {
            _ = try pair.initiator.readMessage(m2)
            var m3 = try pair.initiator.writeMessage(payload: [8])
            m3[m3.count - 1] ^= 0x80   // the last tag byte
            #expect(throws: NoiseError.decryptFailed) { _ = try pair.responder.readMessage(m3) }
        }
        let victim = messageIndex == 1 ? pair.initiator : pair.responder
        #expect(!victim.isComplete)
        var again = victim
        #expect(throws: NoiseError.handshakeFailed) { _ = try again.writeMessage(payload: []) }
        #expect(throws: NoiseError.handshakeFailed) { _ = try again.readMessage(m2) }
    }

    @Test("different prologues make message 2 fail")
    func wrongPrologue() throws {
        var i = NoiseHandshake(role: .initiator, prologue: Array("hark/1".utf8), staticKey: .generate())
        var r = NoiseHandshake(role: .responder, prologue: Array("hark/2".utf8), staticKey: .generate())
        _ = try r.readMessage(try i.writeMessage(payload: []))   // message 1 is not authenticated
        let m2 = try r.writeMessage(payload: [])
        #expect(throws: NoiseError.decryptFailed) { _ = try i.readMessage(m2) }
    }

    @Test("turn order is enforced")
    func wrongTurn() throws {
        var i = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        var r = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        #expect(throws: NoiseError.wrongTurn) { _ = try r.writeMessage(payload: []) }
        #expect(throws: NoiseError.wrongTurn) { _ = try i.readMessage([UInt8](repeating: 1, count: 32)) }
    }

    @Test("split before completion and writing after completion are refused")
    func completionRules() throws {
        var pair = HandshakePair()
        #expect(throws: NoiseError.handshakeNotComplete) { _ = try pair.initiator.split() }
        try pair.run()
        #expect(throws: NoiseError.handshakeAlreadyComplete) { _ = try pair.initiator.writeMessage(payload: []) }
        #expect(throws: NoiseError.handshakeAlreadyComplete) { _ = try pair.responder.readMessage([]) }
    }

    @Test("short and oversize handshake messages are refused with their sizes")
    func sizes() throws {
        var r = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        #expect(throws: NoiseError.messageTooShort(byteCount: 31, minimum: 32)) {
            _ = try r.readMessage([UInt8](repeating: 0, count: 31))
        }
        var r2 = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        #expect(throws: NoiseError.messageTooLarge(byteCount: 65536, limit: 65535)) {
            _ = try r2.readMessage([UInt8](repeating: 0, count: 65536))
        }
        var i = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        #expect(throws: NoiseError.messageTooLarge(byteCount: 65536, limit: 65535)) {
            _ = try i.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32 + 1))
        }
        var i2 = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        let biggest = try i2.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32))
        #expect(biggest.count == 65535)
        var i3 = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        var r3 = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        _ = try r3.readMessage(try i3.writeMessage(payload: []))
        #expect(throws: NoiseError.messageTooShort(byteCount: 95, minimum: 96)) {
            _ = try i3.readMessage(try r3.writeMessage(payload: []).dropLast(1).map { $0 })
        }
    }

    @Test("a low-order ephemeral key from the peer is refused as weak")
    func weakKey() throws {
        var i = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        var r = NoiseHandshake(role: .responder, prologue: [], staticKey: .generate())
        _ = try i.writeMessage(payload: [])
        _ = try r.readMessage([UInt8](repeating: 0, count: 32))   // the all-zero point has order 1
        #expect(throws: NoiseError.weakKey) { _ = try r.writeMessage(payload: []) }
    }

    @Test("garbage as message 2 fails cleanly", arguments: [96, 200, 1000])
    func garbage(length: Int) throws {
        var i = NoiseHandshake(role: .initiator, prologue: [], staticKey: .generate())
        _ = try i.writeMessage(payload: [])
        let junk = SecureRandom.bytes(length)
        #expect(throws: NoiseError.self) { _ = try i.readMessage(junk) }
        #expect(!i.isComplete)
    }

    @Test("error descriptions say what happened")
    func descriptions() {
        #expect(NoiseError.messageTooLarge(byteCount: 70000, limit: 65535).description.contains("70000"))
        #expect(NoiseError.decryptFailed.description.contains("decryption failed"))
    }
}

@Suite("Noise building blocks")
struct NoiseBuildingBlockTests {
    @Test("a protocol name of ≤ 32 bytes is zero-padded into h, a longer one hashed (§5.2)")
    func initializeSymmetric() {
        let s = SymmetricState(protocolName: "Noise_XX_25519_ChaChaPoly_SHA256")
        #expect(s.handshakeHash == Array("Noise_XX_25519_ChaChaPoly_SHA256".utf8))
        #expect(s.chainingKey == s.handshakeHash)
        let short = SymmetricState(protocolName: "Noise_NN_25519_AESGCM_SHA256")
        #expect(short.handshakeHash == Array("Noise_NN_25519_AESGCM_SHA256".utf8) + [0, 0, 0, 0])
        let long = SymmetricState(protocolName: "Noise_XXpsk3_25519_ChaChaPoly_SHA256")
        #expect(long.handshakeHash == SHA256.hash(Array("Noise_XXpsk3_25519_ChaChaPoly_SHA256".utf8)))
    }

    @Test("HKDF matches RFC 5869 test case 3 (empty salt and info, via Noise's ck = HMAC-extract key)")
    func hkdf() {
        // RFC 5869 A.3: IKM = 22 × 0x0b, salt = "", info = "", L = 42. Noise's HKDF is HKDF with
        // salt = chaining key and info = "", so ck = "" must reproduce the RFC's 42 bytes of OKM.
        let out = noiseHKDF(chainingKey: [], inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22), count: 2)
        #expect(Hex.encode(Array((out[0] + out[1]).prefix(42))) ==
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    @Test("CipherState refuses nonce 2^64-1 and does not advance on failure (§5.1)")
    func nonceExhaustion() throws {
        let key = SecureRandom.bytes(32)
        var sender = CipherState(key: key, nonce: UInt64.max - 1)
        var receiver = CipherState(key: key, nonce: UInt64.max - 1)
        let last = try sender.encrypt(ad: [], plaintext: [42])
        #expect(throws: NoiseError.nonceExhausted) { _ = try sender.encrypt(ad: [], plaintext: [43]) }
        var tampered = last; tampered[0] ^= 1
        #expect(throws: NoiseError.decryptFailed) { _ = try receiver.decrypt(ad: [], ciphertext: tampered) }
        #expect(receiver.nonce == UInt64.max - 1)
        #expect(try receiver.decrypt(ad: [], ciphertext: last) == [42])
        #expect(throws: NoiseError.nonceExhausted) { _ = try receiver.decrypt(ad: [], ciphertext: last) }
    }

    @Test("Rekey changes the key, keeps the nonce, and both sides stay in step")
    func rekey() throws {
        let key = SecureRandom.bytes(32)
        var a = CipherState(key: key), b = CipherState(key: key)
        _ = try b.decrypt(ad: [], ciphertext: try a.encrypt(ad: [], plaintext: [1]))
        try a.rekey()
        #expect(a.key != key && a.nonce == 1)
        let afterRekey = try a.encrypt(ad: [], plaintext: [2])
        var stale = b
        #expect(throws: NoiseError.decryptFailed) { _ = try stale.decrypt(ad: [], ciphertext: afterRekey) }
        try b.rekey()
        #expect(try b.decrypt(ad: [], ciphertext: afterRekey) == [2])
    }
}
