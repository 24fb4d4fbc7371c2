internal import CSodium
internal import Crypto
import struct Foundation.Data

/// SHA-256 (FIPS 180-4); the hash of Noise rev 34 §12.5 and of file chunks and Merkle trees
/// (PROTOCOL.md §8.3). Arrays go through libsodium's `crypto_hash_sha256`; memory and the
/// streaming `Hasher` through swift-crypto (BoringSSL, which uses the SHA-NI instructions where the
/// CPU has them: about 1.5 GB/s per core against libsodium's 0.4 GB/s here). Both give the same
/// digest. Stateless functions are thread-safe.
public enum SHA256 {
    public static let byteCount = 32
    public static let blockByteCount = 64

    public static func hash(_ data: [UInt8]) -> [UInt8] {
        Sodium.ready()
        var out = [UInt8](repeating: 0, count: byteCount)
        _ = crypto_hash_sha256(&out, data, UInt64(data.count))
        return out
    }

    /// The 32-byte digest of bytes in memory (a chunk buffer: no copy into an array first).
    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: data))
    }

    /// Streaming SHA-256: the same digest as `hash` of the concatenated updates. One owner at a
    /// time (not thread-safe); `finalize` once.
    public final class Hasher {
        private var state = Crypto.SHA256()

        public init() {}

        public func update(_ data: UnsafeRawBufferPointer) {
            guard !data.isEmpty else { return }
            state.update(data: data)
        }

        /// The 32-byte digest.
        public func finalize() -> [UInt8] { Array(state.finalize()) }
    }
}

/// HMAC-SHA-256 (RFC 2104) via `crypto_auth_hmacsha256_init/update/final`, which accepts a key
/// of any length, as Noise's HKDF (rev 34 §4.3) needs.
public enum HMACSHA256 {
    public static let byteCount = 32

    public static func authenticationCode(key: [UInt8], data: [UInt8]) -> [UInt8] {
        Sodium.ready()
        var state = crypto_auth_hmacsha256_state()
        var out = [UInt8](repeating: 0, count: byteCount)
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        _ = crypto_auth_hmacsha256_update(&state, data, UInt64(data.count))
        _ = crypto_auth_hmacsha256_final(&state, &out)
        return out
    }
}

/// BLAKE2b (RFC 7693) via `crypto_generichash_blake2b_salt_personal`.
public enum BLAKE2b {
    /// Personalisation size: 16 bytes (shorter strings are zero-padded).
    public static let personalByteCount = 16

    /// BLAKE2b with an output of `byteCount` bytes (16…64), an optional key (16…64 bytes or
    /// empty) and a personalisation string of at most 16 ASCII bytes.
    public static func hash(_ data: [UInt8], byteCount: Int = 32, key: [UInt8] = [], personal: String) -> [UInt8] {
        Sodium.ready()
        precondition((16...64).contains(byteCount), "BLAKE2b output must be 16…64 bytes")
        precondition(key.isEmpty || (16...64).contains(key.count), "BLAKE2b key must be 16…64 bytes")
        var person = Array(personal.utf8)
        precondition(person.count <= personalByteCount, "BLAKE2b personalisation longer than 16 bytes")
        person += [UInt8](repeating: 0, count: personalByteCount - person.count)
        var out = [UInt8](repeating: 0, count: byteCount)
        _ = key.withUnsafeBufferPointer { k in
            crypto_generichash_blake2b_salt_personal(&out, byteCount, data, UInt64(data.count),
                                                     key.isEmpty ? nil : k.baseAddress, key.count, nil, person)
        }
        return out
    }

    /// `hash` of bytes in memory (a chunk buffer: no copy into an array first), unkeyed,
    /// 32-byte output.
    public static func hash(_ data: UnsafeRawBufferPointer, personal: String) -> [UInt8] {
        Sodium.ready()
        let person = personalBytes(personal)
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash_blake2b_salt_personal(&out, 32, data.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                     UInt64(data.count), nil, 0, nil, person)
        return out
    }

    /// Streaming BLAKE2b-256, unkeyed, with a personalisation: the same digest as `hash` of
    /// the concatenated updates. Holds libsodium's state (384 B, 64-byte aligned). One owner at a
    /// time (not thread-safe); `finalize` once.
    public final class Hasher {
        private let state: UnsafeMutableRawPointer

        public init(personal: String) {
            Sodium.ready()
            state = .allocate(byteCount: crypto_generichash_blake2b_statebytes(), alignment: 64)
            let person = BLAKE2b.personalBytes(personal)
            _ = crypto_generichash_blake2b_init_salt_personal(OpaquePointer(state),
                                                              nil, 0, 32, nil, person)
        }

        deinit { state.deallocate() }

        public func update(_ data: UnsafeRawBufferPointer) {
            guard let base = data.baseAddress, !data.isEmpty else { return }
            _ = crypto_generichash_blake2b_update(OpaquePointer(state),
                                                  base.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }

        /// The 32-byte digest.
        public func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            _ = crypto_generichash_blake2b_final(OpaquePointer(state), &out, 32)
            return out
        }
    }

    static func personalBytes(_ personal: String) -> [UInt8] {
        var person = Array(personal.utf8)
        precondition(person.count <= personalByteCount, "BLAKE2b personalisation longer than 16 bytes")
        person += [UInt8](repeating: 0, count: personalByteCount - person.count)
        return person
    }
}

/// ISO/IEC 7816-4 padding via `sodium_pad` / `sodium_unpad`.
public enum Padding {
    /// Pads to the next multiple of `blockSize` (always adds at least one byte).
    public static func pad(_ data: [UInt8], blockSize: Int) -> [UInt8] {
        Sodium.ready()
        precondition(blockSize > 0)
        var buf = data + [UInt8](repeating: 0, count: blockSize)
        var padded = 0
        _ = sodium_pad(&padded, &buf, data.count, blockSize, buf.count)
        return Array(buf[0..<padded])
    }

    /// Removes padding added by `pad`.
    /// - Throws: `CryptoError.invalidPadding`.
    public static func unpad(_ data: [UInt8], blockSize: Int) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        var len = 0
        guard !data.isEmpty, sodium_unpad(&len, data, data.count, blockSize) == 0 else { throw .invalidPadding }
        return Array(data[0..<len])
    }
}
