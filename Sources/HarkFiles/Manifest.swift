import HarkCrypto
import HarkEventProto
import SwiftProtobuf
import struct Foundation.Data

/// BLAKE2b-256(person "hark.manifest.v1", encoded manifest bytes exactly as received): names a
/// manifest, e.g. in a signed file offer. Value type; thread-safe.
public struct ManifestID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// 32 bytes.
    public let bytes: [UInt8]

    /// - Throws: `FileError.malformed` unless `bytes` has 32 bytes.
    public init(bytes: [UInt8]) throws(FileError) {
        guard bytes.count == FileLimits.hashBytes else { throw .malformed("manifest ID must be 32 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// The ID of `encoded` (the bytes of a `FileManifest`, as received).
    public init(hashing encoded: [UInt8]) {
        bytes = BLAKE2b.hash(encoded, personal: FileDomain.manifestPersonal)
    }

    /// 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    public static func < (a: ManifestID, b: ManifestID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// One regular file of a manifest. Built by `ManifestBuilder` or decoded (and then fully
/// validated) by `Manifest(decoding:)`. Value type; thread-safe.
public struct ManifestEntry: Sendable, Equatable {
    /// Relative path, one component per element; valid per `SafePath`.
    public let path: [String]
    /// Size in bytes (≤ 2^50).
    public let size: UInt64
    /// Permission bits (≤ 0o777).
    public let mode: UInt32
    /// Chunk size in bytes: a power of two in [64 KiB, 64 MiB].
    public let chunkSize: Int
    /// The chunk hashes, `chunkCount` × 32 bytes, concatenated in chunk order.
    public let chunkHashes: [UInt8]
    /// 32-byte file root (`MerkleTree.fileRoot`).
    public let root: [UInt8]
    /// The hash of `chunkHashes` and `root`: the manifest's (one per manifest).
    public let hashAlgorithm: FileHashAlgorithm

    /// Makes an entry and computes its root. Validates like decoding does.
    /// - Throws: `FileError` (unsafe path, bad chunk size, mode, sizes).
    public init(path: [String], size: UInt64, mode: UInt32, chunkSize: Int, chunkHashes: [UInt8],
                hashAlgorithm: FileHashAlgorithm) throws(FileError) {
        try Self.check(index: 0, path: path, size: size, mode: mode, chunkSize: chunkSize, hashBytes: chunkHashes.count)
        self.path = path
        self.size = size
        self.mode = mode
        self.chunkSize = chunkSize
        self.chunkHashes = chunkHashes
        self.hashAlgorithm = hashAlgorithm
        root = MerkleTree.fileRoot(size: size, chunkSize: chunkSize, flatHashes: chunkHashes, hashAlgorithm)
    }

    init(decoded e: Hark_V1_FileEntry, index: Int, hashAlgorithm: FileHashAlgorithm) throws(FileError) {
        guard e.unknownFields.data.isEmpty else { throw .malformed("entry \(index) has unknown fields") }
        guard UInt64(e.chunkSize) <= UInt64(Int.max), ChunkSizing.isValid(Int(e.chunkSize)) else {
            throw .invalidChunkSize(entry: index, chunkSize: e.chunkSize)
        }
        try Self.check(index: index, path: e.path, size: e.size, mode: e.mode, chunkSize: Int(e.chunkSize),
                       hashBytes: e.chunkHashes.count)
        path = e.path
        size = e.size
        mode = e.mode
        chunkSize = Int(e.chunkSize)
        chunkHashes = [UInt8](e.chunkHashes)
        root = [UInt8](e.root)
        self.hashAlgorithm = hashAlgorithm
        guard root.count == FileLimits.hashBytes,
              root == MerkleTree.fileRoot(size: size, chunkSize: chunkSize, flatHashes: chunkHashes, hashAlgorithm) else {
            throw .rootMismatch(entry: index)
        }
    }

    static func check(index: Int, path: [String], size: UInt64, mode: UInt32, chunkSize: Int, hashBytes: Int) throws(FileError) {
        try SafePath.validate(path)
        guard size <= FileLimits.maxFileSize else { throw .fileTooLarge(entry: index, size: size) }
        guard ChunkSizing.isValid(chunkSize) else { throw .invalidChunkSize(entry: index, chunkSize: UInt32(clamping: chunkSize)) }
        guard mode & ~0o777 == 0 else { throw .invalidMode(entry: index, mode: mode) }
        let count = ChunkSizing.chunkCount(fileSize: size, chunkSize: chunkSize)
        guard count <= UInt64(FileLimits.maxTotalChunks) else { throw .tooManyChunks(Int(clamping: count)) }
        let expected = Int(count) * FileLimits.hashBytes
        guard hashBytes == expected else { throw .chunkHashesLength(entry: index, expected: expected, actual: hashBytes) }
    }

    /// ceil(size / chunkSize); 0 for an empty file.
    public var chunkCount: Int { chunkHashes.count / FileLimits.hashBytes }

    /// The 32-byte hash of chunk `index` (0 ..< chunkCount).
    public func chunkHash(_ index: Int) -> [UInt8] {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        let start = index * FileLimits.hashBytes
        return Array(chunkHashes[start ..< start + FileLimits.hashBytes])
    }

    /// Length in bytes of chunk `index`: `chunkSize`, or less for the last chunk.
    public func chunkLength(_ index: Int) -> Int {
        ChunkSizing.chunkLength(index: index, fileSize: size, chunkSize: chunkSize)
    }

    /// `MerkleTree.chunkHash` of `chunk` under this entry's hash algorithm.
    public func hash(chunk: UnsafeRawBufferPointer) -> [UInt8] { MerkleTree.chunkHash(chunk, hashAlgorithm) }

    /// `hash(chunk:)` of an array.
    public func hash(chunk: [UInt8]) -> [UInt8] { MerkleTree.chunkHash(chunk, hashAlgorithm) }

    /// A streaming `hash(chunk:)`.
    public func chunkHasher() -> ChunkHasher { ChunkHasher(hashAlgorithm) }

    /// Byte offset of chunk `index` in the file.
    public func chunkOffset(_ index: Int) -> UInt64 { UInt64(index) * UInt64(chunkSize) }

    /// The path joined by "/" (raw; pass through `SafePath.displaySafe` before printing it —
    /// `displayName` does).
    public var relativePath: String { path.joined(separator: "/") }
    /// `relativePath` neutralised for a terminal.
    public var displayName: String { SafePath.displaySafe(relativePath) }

    var proto: Hark_V1_FileEntry {
        var e = Hark_V1_FileEntry()
        e.path = path
        e.size = size
        e.mode = mode
        e.chunkSize = UInt32(chunkSize)
        e.chunkHashes = Data(chunkHashes)
        e.root = Data(root)
        return e
    }
}

/// A validated file manifest (PROTOCOL.md §8.1): the files of one offer, their sizes, modes,
/// chunk sizes, chunk hashes and roots. Keeps the encoded bytes it was decoded from (or
/// encoded to) so its ID is always the hash of the exact bytes. Value type; thread-safe.
public struct Manifest: Sendable, Equatable {
    /// The files, in the sender's order. Paths are unique and none is a folder of another.
    public let entries: [ManifestEntry]
    /// The encoded `FileManifest` (≤ 64 MiB), as received or as built.
    public let encoded: [UInt8]
    /// Hash of `encoded`.
    public let id: ManifestID
    /// Where each chunk of each entry sits in the manifest-wide chunk numbering.
    public let layout: ChunkLayout
    /// The hash of every entry's chunk hashes and root (`FileManifest.hash_algorithm`).
    public let hashAlgorithm: FileHashAlgorithm

    /// Makes and encodes a manifest from entries (deterministic field order). A BLAKE2b-256
    /// manifest encodes without the hash-algorithm field, exactly as before the field existed.
    /// - Throws: `FileError` as `init(decoding:)` does for the same content; `.malformed` when
    ///   the entries' hash algorithms differ.
    public init(entries: [ManifestEntry]) throws(FileError) {
        let algorithm = entries.first?.hashAlgorithm ?? FileHashAlgorithm.current
        guard entries.allSatisfy({ $0.hashAlgorithm == algorithm }) else { throw .malformed("entries with different hash algorithms") }
        var m = Hark_V1_FileManifest()
        m.format = FileLimits.format
        m.hashAlgorithm = Hark_V1_HashAlgorithm(rawValue: algorithm.rawValue) ?? .blake2B256
        m.entries = entries.map(\.proto)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: [UInt8]
        do { bytes = try m.serializedBytes(options: options) } catch { throw .malformed("does not serialize: \(error)") }
        try self.init(decoding: bytes)
    }

    /// Decodes and validates `bytes`: size and entry limits, format, no unknown fields, every
    /// path safe and unique (and no file inside another file's path), sizes ≤ 2^50, modes ≤ 0o777,
    /// chunk sizes valid, exactly ceil(size / chunkSize) hashes, total chunks ≤ 2^20, and every
    /// root equal to the root of its chunk hashes (so O(chunks) hashing).
    /// - Throws: `FileError` naming the first rule broken.
    public init(decoding bytes: [UInt8]) throws(FileError) {
        guard bytes.count <= FileLimits.maxManifestBytes else { throw .manifestTooLarge(bytes.count) }
        let m: Hark_V1_FileManifest
        do { m = try Hark_V1_FileManifest(serializedBytes: bytes) } catch { throw .malformed("\(error)") }
        guard m.unknownFields.data.isEmpty else { throw .malformed("unknown fields") }
        guard m.format == FileLimits.format else { throw .unsupportedFormat(m.format) }
        guard let algorithm = FileHashAlgorithm(rawValue: m.hashAlgorithm.rawValue) else {
            throw .malformed("unknown hash algorithm \(m.hashAlgorithm.rawValue)")
        }
        guard !m.entries.isEmpty else { throw .emptyManifest }
        guard m.entries.count <= FileLimits.maxEntries else { throw .tooManyEntries(m.entries.count) }
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(m.entries.count)
        var totalChunks = 0
        var files = Set<String>()
        var folders = Set<String>()
        for (i, e) in m.entries.enumerated() {
            // Cheap checks first so a huge forged manifest fails before the hashing.
            totalChunks += e.chunkHashes.count / FileLimits.hashBytes
            guard totalChunks <= FileLimits.maxTotalChunks else { throw .tooManyChunks(totalChunks) }
            let entry = try ManifestEntry(decoded: e, index: i, hashAlgorithm: algorithm)
            // Byte-wise keys: Swift String equality is canonical equivalence, and every name is
            // NFC already, so the two agree here.
            let key = entry.relativePath
            guard !folders.contains(key) else { throw .pathConflict(entry.displayName) }
            guard files.insert(key).inserted else { throw .duplicatePath(entry.displayName) }
            var prefix = ""
            for c in entry.path.dropLast() {
                prefix = prefix.isEmpty ? c : prefix + "/" + c
                guard !files.contains(prefix) else { throw .pathConflict(SafePath.displaySafe(prefix)) }
                folders.insert(prefix)
            }
            entries.append(entry)
        }
        self.entries = entries
        hashAlgorithm = algorithm
        encoded = bytes
        id = ManifestID(hashing: bytes)
        layout = ChunkLayout(files: entries.map { (size: $0.size, chunkSize: $0.chunkSize) })
    }

    /// Sum of all entry sizes, in bytes.
    public var totalBytes: UInt64 { layout.totalBytes }
    /// Number of chunks over all entries.
    public var chunkCount: Int { layout.chunkCount }

    /// The hash of manifest-wide chunk `global` (see `ChunkLayout`).
    public func chunkHash(global: Int) -> [UInt8] {
        let (e, c) = layout.locate(global)
        return entries[e].chunkHash(c)
    }
}

/// The manifest-wide chunk numbering: entry 0's chunks first, then entry 1's, and so on, so one
/// integer (a "global" chunk index) names any chunk of a manifest. Peer bitmaps and the
/// scheduler use it. Value type; thread-safe.
public struct ChunkLayout: Sendable, Equatable {
    /// Total number of chunks.
    public let chunkCount: Int
    /// Sum of the file sizes, in bytes.
    public let totalBytes: UInt64
    /// Global index of each entry's first chunk; one more element at the end (= chunkCount).
    public let firstChunk: [Int]
    let sizes: [UInt64]
    let chunkSizes: [Int]

    /// Layout of files with these sizes (bytes) and chunk sizes (bytes, > 0).
    public init(files: [(size: UInt64, chunkSize: Int)]) {
        var first = [0]
        first.reserveCapacity(files.count + 1)
        var total: UInt64 = 0
        for f in files {
            first.append(first.last! + Int(ChunkSizing.chunkCount(fileSize: f.size, chunkSize: f.chunkSize)))
            total += f.size
        }
        firstChunk = first
        chunkCount = first.last!
        totalBytes = total
        sizes = files.map(\.size)
        chunkSizes = files.map(\.chunkSize)
    }

    /// Number of entries.
    public var entryCount: Int { sizes.count }

    /// The largest chunk size among entries that have chunks (0 when none has), bytes.
    public var maxChunkLength: Int {
        zip(sizes, chunkSizes).filter { $0.0 > 0 }.map { min(UInt64($0.1), $0.0) }.max().map(Int.init) ?? 0
    }

    /// The entry and its local chunk index of global chunk `global` (0 ..< chunkCount). O(log entries).
    public func locate(_ global: Int) -> (entry: Int, chunk: Int) {
        precondition(global >= 0 && global < chunkCount, "chunk index out of range")
        // Last entry whose first chunk is ≤ global and which has chunks.
        var lo = 0, hi = sizes.count - 1
        while lo < hi {   // halves every step
            let mid = (lo + hi + 1) / 2
            if firstChunk[mid] <= global { lo = mid } else { hi = mid - 1 }
        }
        return (lo, global - firstChunk[lo])
    }

    /// Global index of chunk `chunk` of entry `entry`.
    public func global(entry: Int, chunk: Int) -> Int {
        precondition(chunk >= 0 && firstChunk[entry] + chunk < firstChunk[entry + 1], "chunk index out of range")
        return firstChunk[entry] + chunk
    }

    /// Length in bytes of global chunk `global`.
    public func length(of global: Int) -> Int {
        let (e, c) = locate(global)
        return ChunkSizing.chunkLength(index: c, fileSize: sizes[e], chunkSize: chunkSizes[e])
    }
}
