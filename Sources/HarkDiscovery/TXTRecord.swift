/// The key/value attributes of a DNS-SD TXT record (RFC 6763 §6).
///
/// Each entry goes on the wire as one `key=value` character string of at most 255 bytes
/// (§6.1). Keys are printable US-ASCII (0x20–0x7E) without `=`, at least one character
/// long, and compared case-insensitively (§6.4); this type stores them lowercased, so two
/// records that differ only in key case are equal. Values here are UTF-8 text (hark never
/// puts binary data in TXT). Order is kept as given; a key occurs at most once.
///
/// Boolean attributes (a key with no `=`, §6.4) are not represented: ``parse(_:)`` skips
/// them along with every other malformed string.
///
/// hark's keys are ``Key/version`` (`v`), ``Key/token`` (`tok`) and ``Key/displayName``
/// (`name`).
///
/// Thread-safety: a value type; `Sendable`.
public struct TXTRecord: Sendable, Equatable, Hashable {
    /// One `key=value` attribute. `key` is already lowercased.
    public struct Entry: Sendable, Equatable, Hashable {
        public let key: String
        public var value: String
    }

    /// The keys hark publishes.
    public enum Key {
        /// `v`: hark protocol version, currently `"1"`.
        public static let version = "v"
        /// `tok`: 16 lowercase hex characters, an 8-byte instance token chosen afresh at
        /// every start of a node. The node recognises its own advert by it.
        public static let token = "tok"
        /// `name`: the user's display name, at most ``TXTRecord/maxDisplayNameBytes`` bytes.
        public static let displayName = "name"
    }

    /// Largest size in bytes of one encoded `key=value` string (RFC 6763 §6.1).
    public static let maxEntryBytes = 255
    /// Largest size in bytes of hark's `name` value.
    public static let maxDisplayNameBytes = 64

    /// The entries, in order, with unique lowercased keys.
    public private(set) var entries: [Entry]

    /// An empty record (published as a TXT record holding one empty string, §6.1).
    public init() { entries = [] }

    /// A record from `(key, value)` pairs, in order. Keys are lowercased; when a key occurs
    /// twice the first occurrence wins (§6.4). Nothing is validated here: invalid keys and
    /// oversized entries make ``encodedStrings()`` throw.
    public init(_ pairs: [(String, String)]) {
        entries = []
        for (k, v) in pairs where self[k] == nil { entries.append(Entry(key: k.lowercased(), value: v)) }
    }

    /// A record from a dictionary; entries are ordered by key so the result is stable.
    public init(_ dictionary: [String: String]) {
        self.init(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// hark's standard advert: `v`, `tok` and `name` (the display name is cut to
    /// ``maxDisplayNameBytes`` bytes at a character boundary).
    public static func hark(version: String = "1", token: String, displayName: String) -> TXTRecord {
        TXTRecord([
            (Key.version, version), (Key.token, token),
            (Key.displayName, truncateUTF8(displayName, maxBytes: maxDisplayNameBytes)),
        ])
    }

    /// The value for `key` (case-insensitive), or nil. Setting nil removes the entry;
    /// setting a new key appends it.
    public subscript(key: String) -> String? {
        get {
            let k = key.lowercased()
            return entries.first { $0.key == k }?.value
        }
        set {
            let k = key.lowercased()
            if let i = entries.firstIndex(where: { $0.key == k }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append(Entry(key: k, value: newValue))
            }
        }
    }

    /// Whether `key` is a valid TXT key: non-empty printable US-ASCII without `=` (§6.4).
    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: "=") }
    }

    /// The entries as `key=value` strings, in order, ready for the wire.
    ///
    /// - Throws: ``TXTRecordError/invalidKey(_:)`` for an empty key or one with a byte
    ///   outside 0x20–0x7E or an `=`; ``TXTRecordError/entryTooLong(key:bytes:)`` when
    ///   `key=value` is longer than ``maxEntryBytes`` (255) bytes of UTF-8.
    public func encodedStrings() throws -> [String] {
        try entries.map { e in
            guard Self.isValidKey(e.key) else { throw TXTRecordError.invalidKey(e.key) }
            let s = e.key + "=" + e.value
            let n = s.utf8.count
            guard n <= Self.maxEntryBytes else { throw TXTRecordError.entryTooLong(key: e.key, bytes: n) }
            return s
        }
    }

    /// Parses the character strings of a received TXT record. Tolerant by design: never
    /// traps, and skips each string that is empty, longer than 255 bytes, has no `=`
    /// (boolean attribute), has an invalid key (empty, non-printable, non-ASCII), or a
    /// value that is not valid UTF-8. When a key repeats, the first one wins (§6.4).
    public static func parse(_ strings: [[UInt8]]) -> TXTRecord {
        var r = TXTRecord()
        for s in strings {
            guard !s.isEmpty, s.count <= maxEntryBytes,
                  let eq = s.firstIndex(of: UInt8(ascii: "=")), eq > 0 else { continue }
            let keyBytes = s[..<eq]
            guard keyBytes.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else { continue }
            let key = String(decoding: keyBytes, as: UTF8.self).lowercased()
            guard r[key] == nil,
                  let value = String(validating: s[(eq + 1)...], as: UTF8.self) else { continue }
            r.entries.append(Entry(key: key, value: value))
        }
        return r
    }
}

/// Why a ``TXTRecord`` cannot be encoded.
public enum TXTRecordError: Error, Sendable, Equatable {
    /// The key is empty, or has a byte outside printable US-ASCII, or an `=` (RFC 6763 §6.4).
    case invalidKey(String)
    /// `key=value` would be `bytes` bytes long; the limit is 255 (RFC 6763 §6.1).
    case entryTooLong(key: String, bytes: Int)
}

/// `s` cut to at most `maxBytes` bytes of UTF-8, at a character (grapheme) boundary when
/// possible, else at a Unicode scalar boundary; never splits a UTF-8 sequence.
func truncateUTF8(_ s: String, maxBytes: Int) -> String {
    if s.utf8.count <= maxBytes { return s }
    var out = "", n = 0
    for c in s {
        let m = c.utf8.count
        if n + m > maxBytes { break }
        out.append(c); n += m
    }
    if !out.isEmpty { return out }
    // one grapheme longer than the limit: fall back to whole scalars
    var scalars = String.UnicodeScalarView()
    for u in s.unicodeScalars {
        let m = String(u).utf8.count
        if n + m > maxBytes { break }
        scalars.append(u); n += m
    }
    return String(scalars)
}
