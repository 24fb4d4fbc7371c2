// The file key and the sealing of manifest and chunk slices: which cipher a chunk is sealed
// with, and the associated data that binds a slice to its place. Stateless; thread-safe.

import Foundation
import HarkCrypto
import HarkWireProto

/// The file key and the sealing of file bytes (PROTOCOL.md §9.2). Every slice of a manifest or
/// chunk is sealed under a key only group members can derive (XChaCha20-Poly1305, or for chunk
/// slices AES-256-GCM or ChaCha20-Poly1305 where both ends offer it), with a random nonce or
/// salt and associated data that binds it to its manifest, chunk and offset.
enum FileCrypto {
    /// Whether this node offers AES-256-GCM for chunk slices: when the CPU has AES-NI and
    /// PCLMUL, unless the test hook HARK_TEST_BULK_CIPHER (`xchacha` or `chacha20`) turns it off (Appendix C).
    static let offerAES256GCM: Bool = {
        let hook = ProcessInfo.processInfo.environment["HARK_TEST_BULK_CIPHER"]
        return BulkAEAD.aes256GCMAvailable && hook != "xchacha" && hook != "chacha20"
    }()
    /// Whether this node offers ChaCha20-Poly1305 for chunk slices: always, unless the test hook
    /// HARK_TEST_BULK_CIPHER=xchacha turns it off (Appendix C).
    static let offerChaCha20Poly1305: Bool = ProcessInfo.processInfo.environment["HARK_TEST_BULK_CIPHER"] != "xchacha"

    /// The cipher a server seals with for an asker that offered `aes256GCM` and `chacha20Poly1305`
    /// (§9.2): AES-256-GCM where both offer it, else ChaCha20-Poly1305 where both offer it,
    /// else XChaCha20-Poly1305, which every node opens.
    static func cipher(askerOffersAES256GCM aes: Bool, chaCha20Poly1305 chacha: Bool) -> BulkCipher {
        if aes && offerAES256GCM { return .aes256GCM }
        if chacha && offerChaCha20Poly1305 { return .chacha20Poly1305 }
        return .xchacha20Poly1305
    }

    /// The wire value of `cipher` in `ChunkData.cipher`.
    static func wire(_ cipher: BulkCipher) -> Hark_V1_BulkCipher {
        switch cipher {
        case .xchacha20Poly1305: return .xchacha20Poly1305
        case .aes256GCM: return .aes256Gcm
        case .chacha20Poly1305: return .chacha20Poly1305
        }
    }

    static func key(groupKey: [UInt8], manifestID: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(manifestID, key: groupKey, personal: "hark.filekey.v1")
    }

    static func chunkAD(_ manifestID: [UInt8], chunk: UInt32, offset: UInt32) -> [UInt8] {
        Array("hark.c".utf8) + manifestID + le(UInt64(chunk), 4) + le(UInt64(offset), 4)
    }

    static func manifestAD(_ manifestID: [UInt8], offset: UInt64) -> [UInt8] {
        Array("hark.m".utf8) + manifestID + le(offset, 8)
    }

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
}
