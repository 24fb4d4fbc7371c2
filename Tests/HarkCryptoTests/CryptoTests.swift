import HarkCrypto
import PropertyBased
import Testing

@Suite struct Ed25519Tests {
    /// RFC 8032 §7.1, TEST 1: empty message.
    @Test func rfc8032TestVector1() throws {
        let seed = try Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let kp = try SigningKeyPair(seed: seed)
        #expect(Hex.encode(kp.publicKey.bytes) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let sig = kp.signature(for: [])
        #expect(Hex.encode(sig) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(kp.publicKey.isValidSignature(sig, for: []))
    }

    @Test func signaturesVerifyAndTamperingFails() async throws {
        let kp = SigningKeyPair.generate()
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 0...300), Gen.int(in: 0...10_000)) { msg, pos in
            let sig = kp.signature(for: msg)
            #expect(kp.publicKey.isValidSignature(sig, for: msg))
            var bad = sig
            bad[pos % bad.count] ^= 0x40
            #expect(!kp.publicKey.isValidSignature(bad, for: msg))
            if !msg.isEmpty {
                var m2 = msg
                m2[pos % m2.count] ^= 0x01
                #expect(!kp.publicKey.isValidSignature(sig, for: m2))
            }
        }
    }

    @Test func secretKeyRoundTripAndWrongSizes() throws {
        let kp = SigningKeyPair.generate()
        let again = try SigningKeyPair(secretKeyBytes: kp.secretKeyBytes)
        #expect(again.publicKey == kp.publicKey)
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 public key", expected: 32, actual: 31)) {
            try SigningPublicKey(bytes: [UInt8](repeating: 1, count: 31))
        }
        var sk = kp.secretKeyBytes
        sk[40] ^= 1   // public half no longer matches the seed
        #expect(throws: CryptoError.self) { try SigningKeyPair(secretKeyBytes: sk) }
        #expect(!kp.publicKey.isValidSignature([1, 2, 3], for: []))
    }
}

@Suite struct X25519Tests {
    /// RFC 7748 §6.1 Diffie-Hellman test vector.
    @Test func rfc7748SharedSecret() throws {
        let aliceSK = try Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let bobSK = try Hex.decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        let alice = try AgreementKeyPair(secretKey: aliceSK)
        let bob = try AgreementKeyPair(secretKey: bobSK)
        #expect(Hex.encode(alice.publicKey) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(Hex.encode(bob.publicKey) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let k1 = try X25519.sharedSecret(secretKey: aliceSK, publicKey: bob.publicKey)
        let k2 = try X25519.sharedSecret(secretKey: bobSK, publicKey: alice.publicKey)
        #expect(k1 == k2)
        #expect(Hex.encode(k1) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    }

    @Test func lowOrderPointIsRefused() throws {
        let sk = AgreementKeyPair.generate().secretKey
        #expect(throws: CryptoError.weakPublicKey) {
            try X25519.sharedSecret(secretKey: sk, publicKey: [UInt8](repeating: 0, count: 32))
        }
    }
}

@Suite struct AEADTests {
    /// RFC 8439 §2.8.2 AEAD_CHACHA20_POLY1305 test vector (the "sunscreen" text).
    @Test func rfc8439ChaChaPoly() throws {
        let key = try Hex.decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = try Hex.decode("070000004041424344454647")
        let ad = try Hex.decode("50515253c0c1c2c3c4c5c6c7")
        let pt = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let ct = try ChaChaPoly.seal(pt, key: key, nonce: nonce, associatedData: ad)
        #expect(Hex.encode(Array(ct.suffix(16))) == "1ae10b594f09e26a7e902ecbd0600691")
        #expect(Hex.encode(Array(ct.prefix(16))) == "d31a8d34648e60db7b86afbc53ef7ec2")
        #expect(try ChaChaPoly.open(ct, key: key, nonce: nonce, associatedData: ad) == pt)
    }

    @Test func noiseNonceLayout() {
        #expect(ChaChaPoly.nonce(counter: 0x0102030405060708) == [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test func xchachaRoundTripAndTamper() async throws {
        let key = SecureRandom.bytes(32)
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 0...600), Gen.uint8().array(of: 0...40), Gen.int(in: 0...100_000)) { pt, ad, pos in
            let box = try XChaChaPoly.sealWithRandomNonce(pt, key: key, associatedData: ad)
            #expect(box.count == pt.count + 40)
            #expect(try XChaChaPoly.openWithPrefixedNonce(box, key: key, associatedData: ad) == pt)
            var bad = box
            bad[pos % bad.count] ^= 0x80
            #expect(throws: CryptoError.authenticationFailed) { try XChaChaPoly.openWithPrefixedNonce(bad, key: key, associatedData: ad) }
            #expect(throws: CryptoError.authenticationFailed) {
                try XChaChaPoly.openWithPrefixedNonce(box, key: key, associatedData: ad + [1])
            }
        }
        #expect(throws: CryptoError.authenticationFailed) { try XChaChaPoly.openWithPrefixedNonce([1, 2, 3], key: key) }
    }
}

@Suite struct HashTests {
    @Test func sha256KnownAnswers() {
        #expect(Hex.encode(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hex.encode(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// RFC 4231 test case 2 (key "Jefe").
    @Test func hmacSHA256RFC4231() {
        let mac = HMACSHA256.authenticationCode(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// BLAKE2b-512 of "abc" (RFC 7693 Appendix A), and personalisation changes the digest.
    @Test func blake2bKnownAnswerAndPersonalisation() {
        let h = BLAKE2b.hash(Array("abc".utf8), byteCount: 64, personal: "")
        #expect(Hex.encode(h).hasPrefix("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"))
        #expect(BLAKE2b.hash([1], personal: "hark.event.v1") != BLAKE2b.hash([1], personal: "hark.body.v1"))
        #expect(BLAKE2b.hash([1], personal: "hark.event.v1").count == 32)
    }

    @Test func paddingRoundTrip() async throws {
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 0...200)) { data in
            let padded = Padding.pad(data, blockSize: 32)
            #expect(padded.count % 32 == 0 && padded.count > data.count)
            let back = try Padding.unpad(padded, blockSize: 32)
            #expect(back == data)
        }
        #expect(throws: CryptoError.invalidPadding) { try Padding.unpad([UInt8](repeating: 0, count: 32), blockSize: 32) }
    }
}

@Suite struct EncodingTests {
    @Test func base32RFC4648Vectors() throws {
        let cases = [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"), ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi")]
        for (plain, encoded) in cases {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(try Base32.decode(encoded.uppercased()) == Array(plain.utf8))
        }
        #expect(throws: CryptoError.self) { try Base32.decode("mzxw6ytb1") }
        #expect(throws: CryptoError.self) { try Base32.decode("mz=") }
    }

    @Test func base32AndHexRoundTrip() async throws {
        await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...80)) { bytes in
            let b32 = try Base32.decode(Base32.encode(bytes))
            let hex = try Hex.decode(Hex.encode(bytes))
            #expect(b32 == bytes && hex == bytes)
        }
        #expect(throws: CryptoError.self) { try Hex.decode("abc") }
        #expect(throws: CryptoError.self) { try Hex.decode("zz") }
    }

    @Test func peerIDRoundTripAndRejects() throws {
        let id = PeerID(SigningKeyPair.generate().publicKey)
        let text = id.description
        #expect(text.hasPrefix("hk") && text.count == 54)
        #expect(try PeerID(parsing: text) == id)
        #expect(id.fingerprint.count == 24 && id.fingerprint.split(separator: "-").count == 5)
        #expect(throws: CryptoError.self) { try PeerID(parsing: "xx" + text.dropFirst(2)) }
        #expect(throws: CryptoError.self) { try PeerID(parsing: String(text.dropLast(2))) }
    }

    @Test func constantTimeEquality() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 3]))
        var secret: [UInt8] = [9, 9, 9]
        secureZero(&secret)
        #expect(secret == [0, 0, 0])
    }
}
