/// Hex and RFC 4648 base32 / base64url text encodings used for IDs and tokens.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex, two characters per byte.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case). - Throws: `CryptoError.invalidEncoding`.
    public static func decode(_ text: String) throws(CryptoError) -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw .invalidEncoding("hex of odd length") }
        var out = [UInt8](); out.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) throws(CryptoError) -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: throw .invalidEncoding("not a hex digit")
            }
        }
        var i = 0
        while i < chars.count { out.append(try nibble(chars[i]) << 4 | nibble(chars[i + 1])); i += 2 }
        return out
    }
}

/// RFC 4648 §6 base32, lowercase, without padding (as in multibase "b").
public enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        var buffer: UInt32 = 0, bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b); bits += 8
            while bits >= 5 { out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)]); bits -= 5 }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes either case; rejects padding, other characters and non-zero trailing bits.
    /// - Throws: `CryptoError.invalidEncoding`.
    public static func decode(_ text: String) throws(CryptoError) -> [UInt8] {
        var out = [UInt8]()
        var buffer: UInt32 = 0, bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case 0x61...0x7a: v = UInt32(c - 0x61)
            case 0x41...0x5a: v = UInt32(c - 0x41)
            case 0x32...0x37: v = UInt32(c - 0x32 + 26)
            default: throw .invalidEncoding("not a base32 character")
            }
            buffer = (buffer << 5) | v; bits += 5
            if bits >= 8 { out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits - 8))); bits -= 8 }
        }
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { throw .invalidEncoding("base32 trailing bits") }
        return out
    }
}
