import HarkCrypto
import HarkEventProto

/// A sender chain (PROTOCOL.md §5.4): the symmetric ratchet of one author's messages in one
/// group and epoch. From chain key ck_i (32 B):
///
///     mk_i     = BLAKE2b-256(key = ck_i, 0x01, person "hark.msgkey.v1")   (message key)
///     ck_{i+1} = BLAKE2b-256(key = ck_i, 0x02, person "hark.chain.v1")
///
/// A chain only moves forward: a used message key and an old chain key are overwritten (zeroed),
/// so a later compromise of the device does not reveal earlier messages' keys. Message keys of
/// indices skipped over (messages that arrived out of order) are kept until used, at most
/// `maxSkipped`.
///
/// Pure value type; use from one task at a time.
public struct SenderChain: Sendable, Equatable {
    public static let maxSkipped = 2_000
    /// Chain key for `nextIndex`.
    public private(set) var chainKey: [UInt8]
    public private(set) var nextIndex: UInt32
    /// Message keys of indices below `nextIndex` not used yet.
    public private(set) var skipped: [UInt32: [UInt8]] = [:]

    public init(chainKey: [UInt8], nextIndex: UInt32 = 0, skipped: [UInt32: [UInt8]] = [:]) {
        precondition(chainKey.count == 32, "a chain key is 32 bytes")
        self.chainKey = chainKey
        self.nextIndex = nextIndex
        self.skipped = skipped
    }

    static func messageKey(_ ck: [UInt8]) -> [UInt8] { BLAKE2b.hash([0x01], key: ck, personal: "hark.msgkey.v1") }
    static func next(_ ck: [UInt8]) -> [UInt8] { BLAKE2b.hash([0x02], key: ck, personal: "hark.chain.v1") }

    /// Sender side: the key for the next message and its index; the chain moves on.
    public mutating func nextMessageKey() -> (index: UInt32, key: [UInt8]) {
        let mk = Self.messageKey(chainKey)
        advance()
        return (nextIndex - 1, mk)
    }

    /// Receiver side: the key of message `index`, once. Keys of skipped indices are kept.
    /// - Returns: nil when `index` was used already, or lies more than `maxSkipped` ahead.
    public mutating func messageKey(at index: UInt32) -> [UInt8]? {
        if index < nextIndex { return skipped.removeValue(forKey: index) }
        guard Int(index - nextIndex) <= Self.maxSkipped, index < UInt32.max else { return nil }
        while nextIndex < index {
            skipped[nextIndex] = Self.messageKey(chainKey)
            advance()
        }
        if skipped.count > Self.maxSkipped {
            for k in skipped.keys.sorted().prefix(skipped.count - Self.maxSkipped) { skipped.removeValue(forKey: k) }
        }
        let mk = Self.messageKey(chainKey)
        advance()
        return mk
    }

    private mutating func advance() {
        var old = chainKey
        chainKey = Self.next(chainKey)
        secureZero(&old)
        nextIndex += 1
    }
}

/// Bodies of MESSAGE and EDIT events in groups with roles (PROTOCOL.md §5.4):
/// `0x02 ‖ LE32 epoch ‖ LE32 index ‖ nonce (24) ‖ XChaCha20-Poly1305(mk, padded Content)`,
/// associated data `"hark-sk-v1" ‖ group ID ‖ author ‖ LE64 seq ‖ LE32 epoch ‖ LE32 index`.
public enum SenderKeyBody {
    public static let version: UInt8 = 0x02
    public static let headerByteCount = 9

    /// Epoch and index of a sender-key body, without decrypting it.
    public static func position(_ body: [UInt8]) -> (epoch: UInt32, index: UInt32)? {
        guard body.count > headerByteCount, body[0] == version else { return nil }
        return (le32(body, 1), le32(body, 5))
    }

    public static func seal(_ content: Hark_V1_Content, messageKey: [UInt8], group: EventID, author: SigningPublicKey,
                            seq: UInt64, epoch: UInt32, index: UInt32) throws(EventError) -> [UInt8] {
        let plain: [UInt8]
        do { plain = try content.serializedBytes() } catch { throw .malformed("Content does not serialize: \(error)") }
        let padded = Padding.pad(plain, blockSize: 64)
        var header: [UInt8] = [version]
        withUnsafeBytes(of: epoch.littleEndian) { header += $0 }
        withUnsafeBytes(of: index.littleEndian) { header += $0 }
        let sealed: [UInt8]
        do {
            sealed = try XChaChaPoly.sealWithRandomNonce(padded, key: messageKey,
                                                         associatedData: ad(group, author, seq, epoch, index))
        } catch { throw .malformed("body encryption failed: \(error)") }
        let body = header + sealed
        guard body.count <= EventLimits.maxBodyBytes else { throw .bodyTooLarge(body.count) }
        return body
    }

    /// - Throws: `.bodyDecryptionFailed` for a wrong key or a changed body; `.malformed`.
    public static func open(_ body: [UInt8], messageKey: [UInt8], group: EventID, author: SigningPublicKey,
                            seq: UInt64) throws(EventError) -> Hark_V1_Content {
        guard let (epoch, index) = position(body) else { throw .malformed("not a sender-key body") }
        let plain: [UInt8]
        do {
            let padded = try XChaChaPoly.openWithPrefixedNonce(Array(body[headerByteCount...]), key: messageKey,
                                                               associatedData: ad(group, author, seq, epoch, index))
            plain = try Padding.unpad(padded, blockSize: 64)
        } catch { throw .bodyDecryptionFailed }
        do { return try Hark_V1_Content(serializedBytes: plain) } catch { throw .malformed("Content does not parse: \(error)") }
    }

    static func ad(_ group: EventID, _ author: SigningPublicKey, _ seq: UInt64, _ epoch: UInt32, _ index: UInt32) -> [UInt8] {
        var a = Array("hark-sk-v1".utf8) + group.bytes + author.bytes
        withUnsafeBytes(of: seq.littleEndian) { a += $0 }
        withUnsafeBytes(of: epoch.littleEndian) { a += $0 }
        withUnsafeBytes(of: index.littleEndian) { a += $0 }
        return a
    }

    static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
}
