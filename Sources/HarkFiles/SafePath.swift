import Foundation

/// Validation of names that come from the network, and neutralisation of names shown on a
/// terminal (PROTOCOL.md §8.6). Pure functions; thread-safe.
///
/// A safe path is 1 … 128 components, each: non-empty; not "." or ".."; no "/", "\", NUL, C0/C1
/// control or DEL; no bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069) or line/paragraph separators (U+2028, U+2029); in Unicode NFC; ≤ 255 bytes of
/// UTF-8; not the reserved staging name ".hark-partial". Joined by "/", ≤ 4096 bytes.
public enum SafePath {
    /// Checks `components` against the rules above and returns them unchanged.
    /// - Throws: `FileError.unsafeName` naming the first rule broken.
    @discardableResult
    public static func validate(_ components: [String]) throws(FileError) -> [String] {
        guard !components.isEmpty else { throw .unsafeName(name: "", problem: .empty) }
        guard components.count <= FileLimits.maxComponents else {
            throw .unsafeName(name: displaySafe(components.prefix(4).joined(separator: "/")) + "…",
                              problem: .tooManyComponents(components.count))
        }
        var total = components.count - 1
        for c in components {
            try validateComponent(c)
            total += c.utf8.count
        }
        guard total <= FileLimits.maxPathBytes else {
            throw .unsafeName(name: displaySafe(String(components.joined(separator: "/").prefix(64))) + "…",
                              problem: .pathTooLong(total))
        }
        return components
    }

    /// Splits a "/"-separated relative name ("docs/a.txt") into components and validates them.
    /// A leading "/" is `.absolute`; "//" or a trailing "/" gives an `.empty` component.
    /// - Throws: `FileError.unsafeName`.
    public static func components(of name: String) throws(FileError) -> [String] {
        guard !name.isEmpty else { throw .unsafeName(name: "", problem: .empty) }
        guard !name.hasPrefix("/") else { throw .unsafeName(name: displaySafe(name), problem: .absolute) }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        do {
            return try validate(parts)
        } catch {
            // Report the whole name rather than the component.
            if case let .unsafeName(_, problem) = error { throw .unsafeName(name: displaySafe(name), problem: problem) }
            throw error
        }
    }

    /// Checks one component (see the type's rules).
    /// - Throws: `FileError.unsafeName`.
    public static func validateComponent(_ c: String) throws(FileError) {
        func fail(_ p: NameProblem) -> FileError { .unsafeName(name: displaySafe(c), problem: p) }
        let bytes = c.utf8.count
        guard bytes > 0 else { throw fail(.empty) }
        guard bytes <= FileLimits.maxComponentBytes else {
            throw .unsafeName(name: displaySafe(String(c.prefix(32))) + "…", problem: .componentTooLong(bytes))
        }
        guard c != "." else { throw fail(.dot) }
        guard c != ".." else { throw fail(.dotDot) }
        guard c != FileDomain.stagingFolder else { throw fail(.reserved) }
        for s in c.unicodeScalars {
            switch s.value {
            case 0: throw fail(.nul)
            case 0x2F: throw fail(.slash)
            case 0x5C: throw fail(.backslash)
            case _ where isControl(s): throw fail(.controlCharacter)
            case _ where isBidiControl(s): throw fail(.bidiControl)
            default: continue
            }
        }
        // Swift's == compares canonical equivalence, so compare the bytes.
        guard Array(c.precomposedStringWithCanonicalMapping.utf8) == Array(c.utf8) else { throw fail(.notNFC) }
    }

    /// `text` with every C0/C1 control, DEL, bidirectional control and line/paragraph separator
    /// replaced by a visible escape `\u{XXXX}`, so a name cannot move the cursor, recolour the
    /// terminal or reorder what is printed around it. Other characters are unchanged. For
    /// terminal output only; JSON output is escaped by its encoder.
    public static func displaySafe(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isControl(s) || isBidiControl(s) {
                out.append(contentsOf: "\\u{\(String(s.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// C0 controls, DEL and C1 controls (general category Cc).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }

    /// Bidirectional formatting characters and line/paragraph separators.
    static func isBidiControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
