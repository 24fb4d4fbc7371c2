import HarkCrypto
import HarkEventProto
import SwiftProtobuf

/// The one-line invite token printed by `hark group invite` (docs/PROTOCOL.md §5).
///
/// Text form: `"hark1"` followed by the base32 (RFC 4648, lowercase, no padding) of a
/// serialized `Invite` message. It carries the group key, so it is a secret: anyone holding it
/// can read and write the group. Tokens are at most 4096 characters.
public enum InviteToken {
    public static let prefix = "hark1"
    public static let maxCharacterCount = 4096

    public static func encode(_ invite: Hark_V1_Invite) throws -> String {
        let bytes: [UInt8] = try invite.serializedBytes()
        return prefix + Base32.encode(bytes)
    }

    /// - Throws: `InviteError` saying what is wrong with the text.
    public static func decode(_ text: String) throws(InviteError) -> Hark_V1_Invite {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.utf8.count <= maxCharacterCount else { throw .tooLong(trimmed.utf8.count) }
        guard trimmed.lowercased().hasPrefix(prefix) else { throw .wrongPrefix }
        let bytes: [UInt8]
        do { bytes = try Base32.decode(String(trimmed.dropFirst(prefix.count))) } catch { throw .notBase32 }
        let invite: Hark_V1_Invite
        do { invite = try Hark_V1_Invite(serializedBytes: bytes) } catch {
            throw .malformed("it does not decode (cut short, or a character changed?); copy the whole line again")
        }
        guard invite.version == 1 || invite.version == 2 else { throw .unsupportedVersion(invite.version) }
        guard invite.groupKey.count == 32 else { throw .malformed("group key must be 32 bytes") }
        return invite
    }
}

/// Why an invite token was refused.
public enum InviteError: Error, CustomStringConvertible, Sendable {
    case tooLong(Int)
    case wrongPrefix
    case notBase32
    case malformed(String)
    case unsupportedVersion(UInt32)
    case genesisInvalid(String)

    public var description: String {
        switch self {
        case let .tooLong(n): return "invite token is \(n) characters long; the limit is \(InviteToken.maxCharacterCount)"
        case .wrongPrefix: return "not a hark invite token (it must start with \"\(InviteToken.prefix)\")"
        case .notBase32: return "invite token is damaged (not base32); copy the whole line again"
        case let .malformed(why): return "invite token is damaged: \(why)"
        case let .unsupportedVersion(v): return "invite token version \(v) is not supported by this hark"
        case let .genesisInvalid(why): return "invite token holds an invalid group: \(why)"
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// The channel-bound proof that a peer holds a group key (docs/PROTOCOL.md §6.1):
/// `tag = BLAKE2b-256(key = group_key, person = "hark.offer.v1", handshake_hash ‖ sender identity key)`.
/// A non-member learns nothing (not even the group ID); a tag cannot be replayed on another
/// channel (different handshake hash) or reflected (different sender).
public enum GroupOfferTag {
    public static func tag(groupKey: [UInt8], handshakeHash: [UInt8], sender: SigningPublicKey) -> [UInt8] {
        BLAKE2b.hash(handshakeHash + sender.bytes, byteCount: 32, key: groupKey, personal: "hark.offer.v1")
    }
}
