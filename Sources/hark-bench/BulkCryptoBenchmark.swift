import Crypto
import HarkCrypto

/// `hark-bench bulk-crypto`: the primitives of file transfer and of the Noise channel, one core,
/// in GB/s of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so other work on a shared machine
/// disturbs the figures less than wall time would), libsodium beside swift-crypto (BoringSSL):
///   - chunk hashes: BLAKE2b-256 (libsodium) and SHA-256 (libsodium, swift-crypto), 256 KiB blocks
///   - chunk slices, 256 KiB, as `BulkAEAD` seals and opens them (key derivation and copies
///     included): XChaCha20-Poly1305 (libsodium), AES-256-GCM and ChaCha20-Poly1305 (swift-crypto)
///   - Noise records: ChaCha20-Poly1305 in place through libsodium (what `CipherState` does)
///     against swift-crypto's `ChaChaPoly.seal`, at 100 B (a chat frame), 64 KiB (a full record)
///     and 256 KiB (a slice, without the per-slice key derivation and copies)
func runBulkCryptoBenchmark() {
    let slice = 256 * 1024
    var data = [UInt8](repeating: 0, count: slice + 16)
    for i in data.indices { data[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
    let fileKey = [UInt8](0..<32)
    let ad = [UInt8](repeating: 0xab, count: 46)
    print("bulk-crypto: one core, GB/s of thread CPU time (256 KiB unless noted)")

    func row(_ name: String, bytes: Int, _ body: () -> Void) {
        let rate = cpuRate(bytes: bytes, body)
        print("  \(name.rightPadded(to: 44)) \(String(format: "%6.2f GB/s  (%.2f core-s per GiB)", rate, 1.073741824 / rate))")
    }
    data.withUnsafeBytes { raw in
        let block = UnsafeRawBufferPointer(rebasing: raw[0..<slice])
        row("BLAKE2b-256 (libsodium)", bytes: slice) { blackHole(BLAKE2b.hash(block, personal: "hark.chunk.v1")) }
        let array = Array(block)
        row("SHA-256 (libsodium)", bytes: slice) { blackHole(HarkCrypto.SHA256.hash(array)) }
        row("SHA-256 (swift-crypto)", bytes: slice) { blackHole(HarkCrypto.SHA256.hash(block)) }
    }
    for cipher in BulkCipher.allCases where cipher != .aes256GCM || BulkAEAD.aes256GCMAvailable {
        data.withUnsafeMutableBytes { raw in
            row("seal \(cipher) slice", bytes: slice) {
                blackHole(try? BulkAEAD.seal(inPlace: raw, cipher: cipher, key: fileKey, associatedData: ad))
            }
            let nonce = (try? BulkAEAD.seal(inPlace: raw, cipher: cipher, key: fileKey, associatedData: ad)) ?? []
            let sealed = Array(raw)
            var out = [UInt8](repeating: 0, count: slice)
            row("open \(cipher) slice", bytes: slice) {
                sealed.withUnsafeBytes { s in
                    out.withUnsafeMutableBytes { o in
                        blackHole(try? BulkAEAD.open(s, cipher: cipher, key: fileKey, nonce: nonce, associatedData: ad, into: o))
                    }
                }
            }
        }
    }
    let key = SymmetricKey(data: fileKey)
    // swift-format-ignore: NeverUseForceTry
    // A 12-byte nonce is always a valid ChaChaPoly.Nonce.
    let nonce = try! Crypto.ChaChaPoly.Nonce(data: HarkCrypto.ChaChaPoly.nonce(counter: 7))
    for size in [100, 65535 - 16, 256 * 1024] {
        var record = [UInt8](repeating: 0x5a, count: size + 16)
        let n = HarkCrypto.ChaChaPoly.nonce(counter: 7)
        row("ChaCha20-Poly1305 \(size) B, libsodium in place", bytes: size) {
            record.withUnsafeMutableBytes { try? HarkCrypto.ChaChaPoly.sealInPlace($0, key: fileKey, nonce: n) }
        }
        let plain = [UInt8](repeating: 0x5a, count: size)
        row("ChaCha20-Poly1305 \(size) B, swift-crypto", bytes: size) {
            blackHole(try? Crypto.ChaChaPoly.seal(plain, using: key, nonce: nonce))
        }
    }
}

/// Bytes per second of this thread's CPU time, in GB/s: runs `body` (which handles `bytes`)
/// until it has used 0.3 s of CPU, at most 10^6 times.
private func cpuRate(bytes: Int, _ body: () -> Void) -> Double {
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
    for _ in 0..<4 { body() }
    let start = now()
    var n = 0
    while n < 1_000_000 {
        body(); n += 1
        if n % 8 == 0, now() - start >= 0.3 { break }
    }
    return Double(bytes) * Double(n) / (now() - start) / 1e9
}
