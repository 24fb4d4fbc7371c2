import HarkCrypto
import HarkEventProto
import SwiftProtobuf

/// Event body encryption, first cut: one 32-byte symmetric group key per group (a later
/// change replaces it with per-sender chains). The group key is a plain `[UInt8]` of
/// `keyByteCount` bytes; treat it as a secret (zero copies with `secureZero`).
///
/// Body = nonce(24) ‖ XChaCha20-Poly1305(groupKey, nonce, AD, pad(Content, 32)) ‖ tag(16), where
/// AD = group ID (32 bytes, or empty for a genesis) ‖ author (32) ‖ LE64 seq, so a body cannot
/// be replayed under another group, author or position. Thread-safe (no state).
public enum BodyCipher {
    /// Group key size: 32 bytes.
    public static let keyByteCount = XChaChaPoly.keyByteCount
    /// Plaintext is padded (ISO/IEC 7816-4, `sodium_pad`) to a multiple of 32 bytes.
    public static let paddingBlockBytes = 32
    /// Bytes a sealed body adds to the padded plaintext: 24 (nonce) + 16 (tag).
    public static let overheadBytes = XChaChaPoly.nonceByteCount + XChaChaPoly.tagByteCount

    /// A fresh random group key (32 bytes).
    public static func newGroupKey() -> [UInt8] { SecureRandom.bytes(keyByteCount) }

    /// The associated data binding a body to its event.
    static func associatedData(groupID: EventID?, author: SigningPublicKey, seq: UInt64) -> [UInt8] {
        var ad = groupID?.bytes ?? []
        ad += author.bytes
        for i in 0..<8 { ad.append(UInt8(truncatingIfNeeded: seq >> (8 * UInt64(i)))) }
        return ad
    }

    /// Encrypts `content` under a random nonce.
    /// - Returns: the body, 40 + padded length bytes.
    /// - Throws: `EventError.invalidLength` for a key that is not 32 bytes, `.malformed` if the
    ///   content does not serialize, `.bodyTooLarge` if the result exceeds 65536 bytes.
    public static func seal(_ content: Hark_V1_Content, groupKey: [UInt8], groupID: EventID?,
                            author: SigningPublicKey, seq: UInt64) throws(EventError) -> [UInt8] {
        try checkKey(groupKey)
        let plain: [UInt8]
        do { plain = try content.serializedBytes() } catch { throw .malformed("Content does not serialize: \(error)") }
        let padded = Padding.pad(plain, blockSize: paddingBlockBytes)
        guard padded.count + overheadBytes <= EventLimits.maxBodyBytes else { throw .bodyTooLarge(padded.count + overheadBytes) }
        let ad = associatedData(groupID: groupID, author: author, seq: seq)
        do { return try XChaChaPoly.sealWithRandomNonce(padded, key: groupKey, associatedData: ad) } catch {
            throw .malformed("body encryption failed: \(error)")   // unreachable: sizes checked
        }
    }

    /// Decrypts and decodes a body made by `seal` with the same key, group, author and seq.
    /// - Throws: `EventError.invalidLength` for a bad key, `.bodyDecryptionFailed` for a wrong
    ///   key/context, tampering or bad padding, `.malformed` if the plaintext is not a `Content`.
    public static func open(_ body: [UInt8], groupKey: [UInt8], groupID: EventID?,
                            author: SigningPublicKey, seq: UInt64) throws(EventError) -> Hark_V1_Content {
        try checkKey(groupKey)
        let ad = associatedData(groupID: groupID, author: author, seq: seq)
        let plain: [UInt8]
        do {
            let padded = try XChaChaPoly.openWithPrefixedNonce(body, key: groupKey, associatedData: ad)
            plain = try Padding.unpad(padded, blockSize: paddingBlockBytes)
        } catch { throw .bodyDecryptionFailed }
        do { return try Hark_V1_Content(serializedBytes: plain) } catch {
            throw .malformed("Content does not parse: \(error)")
        }
    }

    /// Opens an event's own body with its group, author and seq as associated data.
    /// - Throws: `EventError.missingBody` if the event has no body, else as `open`.
    public static func open(_ event: Event, groupKey: [UInt8]) throws(EventError) -> Hark_V1_Content {
        guard let body = event.body else { throw .missingBody }
        return try open(body, groupKey: groupKey, groupID: event.groupID, author: event.author, seq: event.seq)
    }

    private static func checkKey(_ key: [UInt8]) throws(EventError) {
        guard key.count == keyByteCount else {
            throw .invalidLength(field: "group key", expected: keyByteCount, actual: key.count)
        }
    }
}
