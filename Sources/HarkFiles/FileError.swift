/// Why a manifest was refused, or a file operation failed. One case per rule, so callers can log
/// and test the exact reason. Names inside cases are already passed through
/// `SafePath.displaySafe`. Value type; thread-safe.
public enum FileError: Error, Equatable, Sendable, CustomStringConvertible {
    // Manifest encoding and limits
    /// The bytes are not a valid protobuf `FileManifest`; says why.
    case malformed(String)
    /// `format` is not `FileLimits.format`.
    case unsupportedFormat(UInt32)
    /// The encoded manifest is larger than `FileLimits.maxManifestBytes` (value: bytes).
    case manifestTooLarge(Int)
    /// The manifest has no entries.
    case emptyManifest
    /// More than `FileLimits.maxEntries` entries (value: how many, or how many were found so far).
    case tooManyEntries(Int)
    /// More than `FileLimits.maxTotalChunks` chunks in total (value: how many).
    case tooManyChunks(Int)
    /// Entry `entry` has a size above `FileLimits.maxFileSize` (bytes).
    case fileTooLarge(entry: Int, size: UInt64)
    /// Entry `entry` has a chunk size that is not a power of two in [2^16, 2^26] bytes.
    case invalidChunkSize(entry: Int, chunkSize: UInt32)
    /// Entry `entry` has bits outside 0o777 in its mode.
    case invalidMode(entry: Int, mode: UInt32)
    /// Entry `entry` carries `actual` bytes of chunk hashes; its size and chunk size demand `expected`.
    case chunkHashesLength(entry: Int, expected: Int, actual: Int)
    /// Entry `entry`'s root is not 32 bytes or differs from the root of its chunk hashes.
    case rootMismatch(entry: Int)
    /// A name is unsafe (the display-safe name and the rule it breaks).
    case unsafeName(name: String, problem: NameProblem)
    /// Two entries have the same path.
    case duplicatePath(String)
    /// Two names in one folder differ only in Unicode normalisation (NFC and NFD twins): names
    /// are compared after NFC normalisation, so they would be one path (both shown display-safe).
    case normalizationTwins(first: String, second: String)
    /// One entry's path is a directory of another entry's path ("a" and "a/b").
    case pathConflict(String)

    // Local files
    /// A system call failed: `operation` on `path` with `errno`.
    case io(operation: String, path: String, errno: Int32)
    /// A path given to the builder is a symbolic link; hark does not follow them.
    case symlinkRefused(String)
    /// A path is not a regular file or directory (a FIFO, socket or device).
    case notRegularFile(String)
    /// A symbolic link or non-directory sits where a directory of the target path must be.
    case unsafeTarget(String)
    /// The destination already exists and `force` was not given.
    case alreadyExists(String)
    /// The source file changed after the manifest was built (size, mtime or a chunk's hash).
    case sourceChanged(String)

    // Chunks
    /// The chunk index is outside the entry (or the manifest, for a global index).
    case chunkOutOfRange(entry: Int, chunk: Int)
    /// A chunk has `actual` bytes where `expected` are due.
    case wrongChunkLength(entry: Int, chunk: Int, expected: Int, actual: Int)
    /// A chunk's BLAKE2b-256 differs from the manifest's hash: corrupt or forged.
    case chunkHashMismatch(entry: Int, chunk: Int)
    /// `commit` was called with `missing` chunks still missing.
    case incomplete(entry: Int, missing: Int)

    public var description: String {
        switch self {
        case let .malformed(why): return "malformed manifest: \(why)"
        case let .unsupportedFormat(f): return "unsupported manifest format \(f)"
        case let .manifestTooLarge(n): return "manifest of \(n) bytes exceeds \(FileLimits.maxManifestBytes)"
        case .emptyManifest: return "manifest has no files"
        case let .tooManyEntries(n): return "\(n) files exceed the limit of \(FileLimits.maxEntries)"
        case let .tooManyChunks(n): return "\(n) chunks exceed the limit of \(FileLimits.maxTotalChunks)"
        case let .fileTooLarge(e, s): return "file \(e): size \(s) exceeds \(FileLimits.maxFileSize) bytes"
        case let .invalidChunkSize(e, c): return "file \(e): chunk size \(c) is not a power of two in 64 KiB…64 MiB"
        case let .invalidMode(e, m): return "file \(e): mode 0o\(String(m, radix: 8)) has bits outside 0o777"
        case let .chunkHashesLength(e, x, a): return "file \(e): \(a) bytes of chunk hashes, expected \(x)"
        case let .rootMismatch(e): return "file \(e): root does not match its chunk hashes"
        case let .unsafeName(n, p): return "unsafe name \"\(n)\": \(p)"
        case let .duplicatePath(n): return "duplicate path \"\(n)\""
        case let .normalizationTwins(a, b):
            return "\(a) and \(b) are the same name after Unicode normalisation (hark compares names in NFC form, as other systems may store either); rename one of them"
        case let .pathConflict(n): return "path \"\(n)\" is both a file and a folder"
        case let .io(op, p, e): return "\(op) \(p): \(Self.strerror(e))"
        case let .symlinkRefused(p): return "\(p) is a symbolic link; hark does not follow links"
        case let .notRegularFile(p): return "\(p) is not a regular file or folder"
        case let .unsafeTarget(p): return "\(p): a symbolic link or non-folder is in the way"
        case let .alreadyExists(p): return "\(p) already exists (use --force to replace it)"
        case let .sourceChanged(p): return "source changed: \(p) is no longer the offered file"
        case let .chunkOutOfRange(e, c): return "file \(e): no chunk \(c)"
        case let .wrongChunkLength(e, c, x, a): return "file \(e) chunk \(c): \(a) bytes, expected \(x)"
        case let .chunkHashMismatch(e, c): return "file \(e) chunk \(c): hash mismatch (corrupt chunk)"
        case let .incomplete(e, m): return "file \(e): \(m) chunks still missing"
        }
    }

    static func strerror(_ e: Int32) -> String { String(cString: posixStrerror(e)) }
}

/// The rule a name breaks (`FileError.unsafeName`).
public enum NameProblem: Sendable, Equatable, CustomStringConvertible {
    case empty
    case absolute
    case dot
    case dotDot
    case slash
    case backslash
    case nul
    case controlCharacter
    case bidiControl
    case notNFC
    case reserved
    /// A component longer than 255 bytes (value: its UTF-8 size).
    case componentTooLong(Int)
    /// A path longer than 4096 bytes (value: its UTF-8 size).
    case pathTooLong(Int)
    /// More than 128 components (value: how many).
    case tooManyComponents(Int)
    /// Not valid UTF-8 (only the builder sees raw bytes).
    case notUTF8

    public var description: String {
        switch self {
        case .empty: return "empty component"
        case .absolute: return "absolute path"
        case .dot: return "\".\" component"
        case .dotDot: return "\"..\" component"
        case .slash: return "\"/\" inside a component"
        case .backslash: return "backslash"
        case .nul: return "NUL character"
        case .controlCharacter: return "control character"
        case .bidiControl: return "bidirectional control character"
        case .notNFC: return "not in Unicode NFC"
        case .reserved: return "reserved name \(FileDomain.stagingFolder)"
        case let .componentTooLong(n): return "component of \(n) bytes exceeds \(FileLimits.maxComponentBytes)"
        case let .pathTooLong(n): return "path of \(n) bytes exceeds \(FileLimits.maxPathBytes)"
        case let .tooManyComponents(n): return "\(n) components exceed \(FileLimits.maxComponents)"
        case .notUTF8: return "not valid UTF-8"
        }
    }
}
