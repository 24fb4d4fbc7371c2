import Testing
@testable import HarkCrypto

@Suite("Bulk AEAD for chunk slices (PROTOCOL.md §9.2)")
struct BulkAEADTests {
    static let fileKey = [UInt8](0..<32)
    static let ad = Array("hark.c".utf8) + [UInt8](repeating: 0xab, count: 32) + [5, 0, 0, 0, 0, 0, 4, 0]

    static var ciphers: [BulkCipher] {
        BulkAEAD.aes256GCMAvailable ? BulkCipher.allCases : [.xchacha20Poly1305, .chacha20Poly1305]
    }

    @Test("seal in place, then open into other memory and in place, for each cipher this CPU has", arguments: ciphers)
    func roundTrip(cipher: BulkCipher) throws {
        let plain = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var buffer = plain + [UInt8](repeating: 0, count: BulkAEAD.tagByteCount)
        let nonce = try buffer.withUnsafeMutableBytes { try BulkAEAD.seal(inPlace: $0, cipher: cipher, key: Self.fileKey, associatedData: Self.ad) }
        #expect(nonce.count == cipher.nonceByteCount)
        #expect(Array(buffer.prefix(plain.count)) != plain)
        var out = [UInt8](repeating: 0, count: plain.count)
        try buffer.withUnsafeBytes { sealed in
            try out.withUnsafeMutableBytes { try BulkAEAD.open(sealed, cipher: cipher, key: Self.fileKey, nonce: nonce, associatedData: Self.ad, into: $0) }
        }
        #expect(out == plain)
        try buffer.withUnsafeMutableBytes { raw in
            try BulkAEAD.open(UnsafeRawBufferPointer(raw), cipher: cipher, key: Self.fileKey, nonce: nonce, associatedData: Self.ad,
                              into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<plain.count]))
        }
        #expect(Array(buffer.prefix(plain.count)) == plain)
    }

    @Test("a flipped bit, another AD, nonce or key, or the other cipher does not open; out is zeroed", arguments: ciphers)
    func tamper(cipher: BulkCipher) throws {
        var buffer = [UInt8](repeating: 0x42, count: 64 + BulkAEAD.tagByteCount)
        let nonce = try buffer.withUnsafeMutableBytes { try BulkAEAD.seal(inPlace: $0, cipher: cipher, key: Self.fileKey, associatedData: Self.ad) }
        func opens(_ sealed: [UInt8], cipher c: BulkCipher = cipher, key: [UInt8] = Self.fileKey, nonce n: [UInt8]? = nil, ad: [UInt8] = Self.ad) -> Bool {
            var out = [UInt8](repeating: 0xff, count: sealed.count - BulkAEAD.tagByteCount)
            let ok = sealed.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { (try? BulkAEAD.open(s, cipher: c, key: key, nonce: n ?? nonce, associatedData: ad, into: $0)) != nil }
            }
            if !ok { #expect(out.allSatisfy { $0 == 0 }) }
            return ok
        }
        #expect(opens(buffer))
        var flipped = buffer; flipped[3] ^= 1
        #expect(!opens(flipped))
        var tagFlipped = buffer; tagFlipped[tagFlipped.count - 1] ^= 0x80
        #expect(!opens(tagFlipped))
        #expect(!opens(buffer, ad: Self.ad.dropLast() + [1]))
        var otherNonce = nonce; otherNonce[0] ^= 1
        #expect(!opens(buffer, nonce: otherNonce))
        var otherKey = Self.fileKey; otherKey[31] ^= 1
        #expect(!opens(buffer, key: otherKey))
        for other in Self.ciphers where other != cipher {
            // With the same salt, too, where the other cipher takes one.
            let n = other.nonceByteCount == nonce.count ? nonce : [UInt8](repeating: 0, count: other.nonceByteCount)
            #expect(!opens(buffer, cipher: other, nonce: n), "opened as \(other)")
        }
    }

    /// bulk_ref.py (next to this file), with Python hashlib and cryptography (OpenSSL):
    /// slice key = BLAKE2b-256(key = file key 00…1f, salt 64…73, person "hark.aesgcm.v1" /
    /// "hark.chacha.v1"); attachment = AEAD(slice key, nonce 0^12, AD, "hark bulk slice").
    static let knownAnswers: [(BulkCipher, String, String)] = [
        (.aes256GCM, "398a0b3f50886c8cd9de6d25ff5fb1a605bf7dad85b987365890b38a7c054381",
         "5d520c01b6c068bd4cca2614cd152e316854de11413ac32c1a822c1eef4e97"),
        (.chacha20Poly1305, "082ef66eb71064b0a1f65a11538a07408acb281d661597b614cf49098792b4ec",
         "8414ab96ae235956872c3f0c2ce42f1fd5a579157134672500e15048555598"),
    ]

    @Test("AES-256-GCM and ChaCha20-Poly1305 slices: known answers from an independent implementation (Python hashlib + cryptography)",
          arguments: [0, 1])
    func knownAnswer(index: Int) throws {
        let (cipher, sliceKey, attachment) = Self.knownAnswers[index]
        try #require(Self.ciphers.contains(cipher))
        let salt = [UInt8](100..<116)
        #expect(Hex.encode(BulkAEAD.sliceKey(cipher, fileKey: Self.fileKey, salt: salt)) == sliceKey)
        let sealed = try Hex.decode(attachment)
        var out = [UInt8](repeating: 0, count: sealed.count - 16)
        try sealed.withUnsafeBytes { s in
            try out.withUnsafeMutableBytes { try BulkAEAD.open(s, cipher: cipher, key: Self.fileKey, nonce: salt, associatedData: Self.ad, into: $0) }
        }
        #expect(String(decoding: out, as: UTF8.self) == "hark bulk slice")
    }

    @Test("a 256 KiB slice round-trips through every cipher, and SHA-256 of memory equals SHA-256 of an array")
    func fullSlice() throws {
        let plain = (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
        for cipher in Self.ciphers {
            var buffer = plain + [UInt8](repeating: 0, count: 16)
            let nonce = try buffer.withUnsafeMutableBytes { try BulkAEAD.seal(inPlace: $0, cipher: cipher, key: Self.fileKey, associatedData: Self.ad) }
            try buffer.withUnsafeMutableBytes { raw in
                try BulkAEAD.open(UnsafeRawBufferPointer(raw), cipher: cipher, key: Self.fileKey, nonce: nonce, associatedData: Self.ad,
                                  into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<plain.count]))
            }
            #expect(Array(buffer.prefix(plain.count)) == plain, "\(cipher)")
        }
        #expect(plain.withUnsafeBytes { SHA256.hash($0) } == SHA256.hash(plain))
    }

    @Test("wrong sizes are refused with what was wrong")
    func sizes() {
        var small = [UInt8](repeating: 0, count: 15)
        #expect(throws: CryptoError.invalidLength(what: "sealed slice", expected: 16, actual: 15)) {
            _ = try small.withUnsafeMutableBytes { try BulkAEAD.seal(inPlace: $0, cipher: .xchacha20Poly1305, key: Self.fileKey, associatedData: []) }
        }
        let sealed = [UInt8](repeating: 0, count: 20)
        var out = [UInt8](repeating: 0, count: 4)
        #expect(throws: CryptoError.invalidLength(what: "XChaCha20-Poly1305 nonce", expected: 24, actual: 16)) {
            try sealed.withUnsafeBytes { s in
                try out.withUnsafeMutableBytes { try BulkAEAD.open(s, cipher: .xchacha20Poly1305, key: Self.fileKey, nonce: [UInt8](repeating: 0, count: 16), associatedData: [], into: $0) }
            }
        }
    }

    @Test("the streaming BLAKE2b hasher equals the one-shot hash, however the input is cut")
    func streamingHash() {
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = BLAKE2b.hash(data, personal: "hark.chunk.v1")
        for cut in [0, 1, 127, 128, 129, 4999, 5000] {
            let h = BLAKE2b.Hasher(personal: "hark.chunk.v1")
            data.withUnsafeBytes { raw in
                h.update(UnsafeRawBufferPointer(rebasing: raw[0..<cut]))
                h.update(UnsafeRawBufferPointer(rebasing: raw[cut...]))
            }
            #expect(h.finalize() == whole, "cut at \(cut)")
        }
        #expect(data.withUnsafeBytes { BLAKE2b.hash($0, personal: "hark.chunk.v1") } == whole)
    }
}
