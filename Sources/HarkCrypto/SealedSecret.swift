/// A secret sealed under a passphrase: the on-disk format of encrypted key files and key backups
/// (docs/SECURITY.md, "Key storage"). Byte layout, integers big-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `HARKSEAL` (ASCII) |
/// | 8 | 1 | version, 1 |
/// | 9 | 1 | kind: 1 a secret key file, 2 a key backup |
/// | 10 | 8 | Argon2id opslimit |
/// | 18 | 8 | Argon2id memlimit in bytes |
/// | 26 | 16 | salt |
/// | 42 | 24 | nonce |
/// | 66 | n + 16 | `crypto_secretbox_easy(kind ‖ secret, nonce, key)`, key = Argon2id13(passphrase, salt, opslimit, memlimit), 32 B |
///
/// The kind is repeated inside the box, so it is authenticated; opslimit, memlimit and salt are
/// bound through the key they derive.
public enum SealedSecret {
    public static let magic = Array("HARKSEAL".utf8)
    public static let version: UInt8 = 1
    public static let headerByteCount = 66

    public enum Kind: UInt8, Sendable { case secretFile = 1, backup = 2 }

    public struct Header: Sendable, Equatable {
        public var kind: Kind
        public var opsLimit: UInt64
        public var memLimit: UInt64
        public var salt: [UInt8]
        public var nonce: [UInt8]
    }

    /// Whether `bytes` begin with the magic (a sealed file rather than a raw key).
    public static func isSealed(_ bytes: [UInt8]) -> Bool { bytes.count >= magic.count && Array(bytes[0..<magic.count]) == magic }

    /// Parses the header. - Throws: `CryptoError.invalidEncoding` for anything malformed.
    public static func header(of bytes: [UInt8]) throws(CryptoError) -> Header {
        guard isSealed(bytes), bytes.count >= headerByteCount + 1 + SecretBox.macByteCount else {
            throw .invalidEncoding("not a sealed hark secret")
        }
        guard bytes[8] == version else { throw .invalidEncoding("sealed secret of version \(bytes[8]), expected \(version)") }
        guard let kind = Kind(rawValue: bytes[9]) else { throw .invalidEncoding("sealed secret of unknown kind \(bytes[9])") }
        func be64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        return Header(kind: kind, opsLimit: be64(10), memLimit: be64(18), salt: Array(bytes[26..<42]), nonce: Array(bytes[42..<66]))
    }

    /// Seals `secret` under `key` with a fresh random nonce.
    public static func seal(_ secret: [UInt8], kind: Kind, key: PassphraseKey) -> [UInt8] {
        let nonce = SecureRandom.bytes(SecretBox.nonceByteCount)
        var out = magic + [version, kind.rawValue]
        for v in [key.opsLimit, key.memLimit] { for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        out += key.salt + nonce
        var plain = [kind.rawValue] + secret
        defer { secureZero(&plain) }
        out += try! SecretBox.seal(plain, key: key.bytes, nonce: nonce)
        return out
    }

    /// Opens a sealed secret with a key derived for its header (see `PassphraseKey.matches`).
    /// - Throws: `CryptoError.authenticationFailed` for a wrong passphrase or a tampered file,
    ///   `.invalidEncoding` for a malformed one or one of another kind.
    public static func open(_ bytes: [UInt8], kind: Kind, key: PassphraseKey) throws(CryptoError) -> [UInt8] {
        let h = try header(of: bytes)
        guard h.kind == kind else { throw .invalidEncoding("sealed secret of kind \(h.kind.rawValue), expected \(kind.rawValue)") }
        guard key.matches(h) else { throw .invalidEncoding("key derived for other parameters") }
        var plain = try SecretBox.open(Array(bytes[headerByteCount...]), key: key.bytes, nonce: h.nonce)
        defer { secureZero(&plain) }
        guard plain.first == kind.rawValue else { throw .authenticationFailed }
        return Array(plain.dropFirst())
    }
}

/// A key derived from a passphrase with Argon2id, with the parameters that derived it. The key
/// bytes are zeroed when the last reference goes away. Immutable after creation.
public final class PassphraseKey: @unchecked Sendable {
    public let salt: [UInt8]
    public let opsLimit: UInt64
    public let memLimit: UInt64
    private var key: [UInt8]

    var bytes: [UInt8] { key }

    /// Derives a key for a new sealed file: fresh salt, MODERATE cost unless told otherwise.
    public convenience init(newFrom passphrase: [UInt8], opsLimit: UInt64 = PasswordHash.opsLimitModerate,
                            memLimit: UInt64 = PasswordHash.memLimitModerate) throws(CryptoError) {
        try self.init(passphrase: passphrase, salt: SecureRandom.bytes(PasswordHash.saltByteCount), opsLimit: opsLimit, memLimit: memLimit)
    }

    /// Derives the key for an existing sealed file's header.
    public convenience init(passphrase: [UInt8], for header: SealedSecret.Header) throws(CryptoError) {
        try self.init(passphrase: passphrase, salt: header.salt, opsLimit: header.opsLimit, memLimit: header.memLimit)
    }

    public init(passphrase: [UInt8], salt: [UInt8], opsLimit: UInt64, memLimit: UInt64) throws(CryptoError) {
        self.key = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, opsLimit: opsLimit, memLimit: memLimit)
        self.salt = salt; self.opsLimit = opsLimit; self.memLimit = memLimit
    }

    /// Whether this key was derived with the header's salt and limits (so it can open it).
    public func matches(_ h: SealedSecret.Header) -> Bool { h.salt == salt && h.opsLimit == opsLimit && h.memLimit == memLimit }

    deinit { secureZero(&key) }
}
