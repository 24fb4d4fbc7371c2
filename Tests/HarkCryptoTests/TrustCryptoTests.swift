import HarkCrypto
import Testing

@Suite struct PassphraseSealTests {
    // INTERACTIVE cost keeps the suite fast; the format stores whatever limits were used.
    func key(_ pw: String, salt: [UInt8]? = nil) throws -> PassphraseKey {
        try PassphraseKey(passphrase: Array(pw.utf8), salt: salt ?? [UInt8](repeating: 7, count: 16),
                          opsLimit: PasswordHash.opsLimitInteractive, memLimit: PasswordHash.memLimitInteractive)
    }

    @Test func pwhashIsDeterministicAndSaltSensitive() throws {
        let salt = [UInt8](repeating: 1, count: 16)
        let a = try PasswordHash.deriveKey(passphrase: Array("pw".utf8), salt: salt, opsLimit: 2, memLimit: 64 << 20)
        let b = try PasswordHash.deriveKey(passphrase: Array("pw".utf8), salt: salt, opsLimit: 2, memLimit: 64 << 20)
        let c = try PasswordHash.deriveKey(passphrase: Array("pw".utf8), salt: [UInt8](repeating: 2, count: 16), opsLimit: 2, memLimit: 64 << 20)
        let d = try PasswordHash.deriveKey(passphrase: Array("pW".utf8), salt: salt, opsLimit: 2, memLimit: 64 << 20)
        #expect(a.count == 32 && a == b && a != c && a != d)
    }

    @Test func pwhashRefusesAbsurdLimitsAndBadSalts() {
        #expect(throws: CryptoError.self) { try PasswordHash.deriveKey(passphrase: [1], salt: [1, 2], opsLimit: 2, memLimit: 64 << 20) }
        #expect(throws: CryptoError.self) { try PasswordHash.deriveKey(passphrase: [1], salt: [UInt8](repeating: 0, count: 16), opsLimit: 2, memLimit: 1 << 40) }
        #expect(throws: CryptoError.self) { try PasswordHash.deriveKey(passphrase: [1], salt: [UInt8](repeating: 0, count: 16), opsLimit: 1000, memLimit: 64 << 20) }
    }

    @Test func secretboxRoundTripAndTamper() throws {
        let k = SecureRandom.bytes(32), n = SecureRandom.bytes(24)
        let box = try SecretBox.seal(Array("secret".utf8), key: k, nonce: n)
        #expect(box.count == 6 + 16)
        #expect(try SecretBox.open(box, key: k, nonce: n) == Array("secret".utf8))
        var bad = box; bad[3] ^= 1
        #expect(throws: CryptoError.authenticationFailed) { try SecretBox.open(bad, key: k, nonce: n) }
        #expect(throws: CryptoError.authenticationFailed) { try SecretBox.open(box, key: SecureRandom.bytes(32), nonce: n) }
    }

    @Test func sealedSecretRoundTripWrongPassphraseAndLayout() throws {
        let secret = SecureRandom.bytes(64)
        let k = try key("correct horse")
        let sealed = SealedSecret.seal(secret, kind: .secretFile, key: k)
        #expect(sealed.count == SealedSecret.headerByteCount + 1 + 64 + 16)
        #expect(Array(sealed[0..<8]) == Array("HARKSEAL".utf8) && sealed[8] == 1 && sealed[9] == 1)
        let h = try SealedSecret.header(of: sealed)
        #expect(h.opsLimit == 2 && h.memLimit == 64 << 20 && h.salt == [UInt8](repeating: 7, count: 16))
        #expect(try SealedSecret.open(sealed, kind: .secretFile, key: try PassphraseKey(passphrase: Array("correct horse".utf8), for: h)) == secret)
        #expect(throws: CryptoError.authenticationFailed) {
            try SealedSecret.open(sealed, kind: .secretFile, key: try PassphraseKey(passphrase: Array("wrong".utf8), for: h))
        }
        #expect(throws: CryptoError.self) { try SealedSecret.open(sealed, kind: .backup, key: k) }
        var tampered = sealed; tampered[tampered.count - 1] ^= 1
        #expect(throws: CryptoError.authenticationFailed) { try SealedSecret.open(tampered, kind: .secretFile, key: k) }
        #expect(!SealedSecret.isSealed(secret))
    }
}

@Suite struct VerificationCodeTests {
    func pk(_ seed: UInt8) throws -> SigningPublicKey { try SigningKeyPair(seed: [UInt8](repeating: seed, count: 32)).publicKey }

    @Test func safetyNumberIsSymmetricStableAndSixtyDigits() throws {
        let a = try pk(1), b = try pk(2), c = try pk(3)
        let ab = SafetyNumber.digits(a, b)
        #expect(ab == SafetyNumber.digits(b, a))
        #expect(ab.count == 60 && ab.allSatisfy(\.isNumber))
        #expect(ab != SafetyNumber.digits(a, c))
        #expect(SafetyNumber.half(a) == SafetyNumber.half(a) && SafetyNumber.half(a).count == 30)
        #expect(ab.contains(SafetyNumber.half(a)) && ab.contains(SafetyNumber.half(b)))
        #expect(SafetyNumber.groups(ab).count == 12 && SafetyNumber.groups(ab).allSatisfy { $0.count == 5 })
        // Known answer computed independently with Python's hashlib.blake2b (PROTOCOL.md §1.1),
        // for the Ed25519 key of the seed 32 × 0x01.
        #expect(SafetyNumber.half(a) == "296766279192360505185240175713")
    }

    @Test func pairingCodeIsTheSameOnBothSidesAndBindsEverything() {
        let hh = SecureRandom.bytes(32), ni = SecureRandom.bytes(32), nr = SecureRandom.bytes(32)
        let initiator = PairingCode.code(handshakeHash: hh, initiatorNonce: ni, responderNonce: nr)
        let responder = PairingCode.code(handshakeHash: hh, initiatorNonce: ni, responderNonce: nr)
        #expect(initiator == responder)
        #expect(initiator.count == 7 && initiator.dropFirst(3).first == " ")
        #expect(PairingCode.commitment(handshakeHash: hh, initiatorNonce: ni).count == 32)
        #expect(PairingCode.commitment(handshakeHash: hh, initiatorNonce: ni) != PairingCode.commitment(handshakeHash: SecureRandom.bytes(32), initiatorNonce: ni))
        // Known answer computed independently with Python's hashlib.blake2b (PROTOCOL.md §3.3).
        let (h1, n2, n3) = ([UInt8](repeating: 1, count: 32), [UInt8](repeating: 2, count: 32), [UInt8](repeating: 3, count: 32))
        #expect(PairingCode.code(handshakeHash: h1, initiatorNonce: n2, responderNonce: n3) == "394 444")
        #expect(Hex.encode(PairingCode.commitment(handshakeHash: h1, initiatorNonce: n2))
                == "6caf89c64a78a89df6a00dea333ab36a9f8e225e4121e24e107fffd99c339bd1")
        // Another channel (handshake hash) gives another code nearly always.
        var differ = 0
        for _ in 0..<20 where PairingCode.code(handshakeHash: SecureRandom.bytes(32), initiatorNonce: ni, responderNonce: nr) != initiator { differ += 1 }
        #expect(differ >= 19)
    }
}

