/// A version vector over one group's authors (docs/HISTORY.md §"Receipts"): entry i is the
/// highest seq of author number i (`rm_author.ix`) among an event's ancestors-or-self.
///
/// Stored as the entries in author-number order, each a LEB128 varint (1 to 10 bytes), trailing
/// zero entries omitted: a group with k authors takes about k to 3k bytes per event.
/// Value type; thread-safe.
struct VersionVector: Equatable, Sendable {
    var entries: [UInt64] = []

    init() {}
    init(entries: [UInt64]) {
        self.entries = entries
        trim()
    }

    /// Decodes a stored vector. Damaged bytes (a truncated varint) end the vector there.
    init(decoding bytes: [UInt8]) {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for b in bytes {
            guard shift < 64 else { break }
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 {
                entries.append(value)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
    }

    /// The stored form (LEB128 varints).
    var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 2)
        for var v in entries {
            while v >= 0x80 {
                out.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        return out
    }

    subscript(ix: Int) -> UInt64 {
        get { ix < entries.count ? entries[ix] : 0 }
        set {
            if ix >= entries.count {
                guard newValue != 0 else { return }
                entries.append(contentsOf: repeatElement(0, count: ix + 1 - entries.count))
            }
            entries[ix] = newValue
            trim()
        }
    }

    /// Pointwise maximum with `other`, in place.
    mutating func formMax(_ other: VersionVector) {
        if other.entries.count > entries.count {
            entries.append(contentsOf: repeatElement(0, count: other.entries.count - entries.count))
        }
        for (i, v) in other.entries.enumerated() where v > entries[i] { entries[i] = v }
    }

    private mutating func trim() {
        while let last = entries.last, last == 0 { entries.removeLast() }
    }
}
