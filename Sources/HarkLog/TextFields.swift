import Foundation
import HarkCrypto
import HarkEventProto

/// The reply and mention fields of a MESSAGE's `Text` content as every replica reads them
/// (PROTOCOL.md §4.7.7, §4.7.8). Pure; thread-safe.
public enum TextFields {
    /// `reply_to` when it is exactly 32 bytes, else nil (absent or malformed: no reply).
    public static func replyTo(_ t: Hark_V1_Text) -> EventID? {
        t.replyTo.count == EventID.byteCount ? try? EventID(bytes: [UInt8](t.replyTo)) : nil
    }

    /// The `mentions` entries that are 32 bytes, in order, each key once, at most
    /// `EventLimits.maxMentions` (entries after that are ignored).
    public static func mentions(_ t: Hark_V1_Text) -> [SigningPublicKey] {
        var out: [SigningPublicKey] = []
        var seen: Set<SigningPublicKey> = []
        for raw in t.mentions.prefix(EventLimits.maxMentions) {
            guard raw.count == 32, let key = try? SigningPublicKey(bytes: [UInt8](raw)), seen.insert(key).inserted else { continue }
            out.append(key)
        }
        return out
    }

    /// Keys as stored in the read model: the 32-byte keys concatenated.
    public static func encode(_ keys: [SigningPublicKey]) -> Data { Data(keys.flatMap(\.bytes)) }

    /// The inverse of `encode`; a trailing partial key is dropped.
    public static func decode(_ data: [UInt8]) -> [SigningPublicKey] {
        stride(from: 0, to: data.count - data.count % 32, by: 32).compactMap { try? SigningPublicKey(bytes: Array(data[$0..<($0 + 32)])) }
    }
}
