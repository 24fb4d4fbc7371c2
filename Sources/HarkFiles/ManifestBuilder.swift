import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a manifest from local files and folders (PROTOCOL.md §8.1).
///
/// Each argument becomes a top-level name: a file "dir/a.txt" is "a.txt"; a folder "dir/photos"
/// is "photos", and everything below it "photos/…", walked recursively (names sorted by their
/// UTF-8 bytes, at most 128 levels) with openat/fdopendir relative to the parent folder and
/// O_NOFOLLOW. Symbolic links: an argument that is one is refused (`FileError.symlinkRefused`);
/// one found inside a folder is skipped and listed in `Result.skipped`, as are FIFOs, sockets,
/// devices and names that could not travel (not UTF-8, control or bidi characters, too long —
/// see `SafePath`). Empty folders are not represented. Names are normalised to NFC.
///
/// Files are read one chunk at a time with pread into one buffer (≤ 64 MiB), so memory does not
/// grow with file size. Chunks that `lseek(SEEK_DATA)` reports as holes are not read: their hash
/// is that of zeros, computed once per length. A file whose size, mtime, inode or ctime changes
/// while it is read gives `FileError.sourceChanged`.
///
/// Stateless; `build` may run concurrently on different paths.
public enum ManifestBuilder {
    /// Something found inside a folder and left out of the manifest.
    public struct Skipped: Sendable, Equatable {
        /// Local path (raw; display-safe it before printing).
        public let path: String
        /// Why, in words.
        public let reason: String
    }

    /// What the build cost.
    public struct Stats: Sendable, Equatable {
        /// Bytes read from files with pread.
        public var bytesRead: UInt64 = 0
        /// Bytes not read because they were holes.
        public var bytesInHoles: UInt64 = 0
        /// Chunks hashed (holes of one length are hashed once).
        public var chunksHashed = 0
    }

    public struct Result: Sendable {
        public let manifest: Manifest
        /// `sources[i]` is the local file of `manifest.entries[i]`.
        public let sources: [SourceFile]
        public let skipped: [Skipped]
        public let stats: Stats
    }

    /// Builds the manifest of `paths` (files or folders).
    /// - Throws: `.symlinkRefused`, `.notRegularFile` (an argument is neither file nor folder),
    ///   `.unsafeName` (an argument's own name cannot travel), `.duplicatePath` (two arguments with
    ///   one name), `.normalizationTwins` (two names in a folder equal after NFC), `.tooManyEntries`, `.tooManyChunks`, `.fileTooLarge`, `.emptyManifest`
    ///   (nothing to offer), `.sourceChanged`, `.io`.
    /// - Parameter algorithm: the hash of the chunks and roots (PROTOCOL.md §8.3).
    public static func build(paths: [String], algorithm: FileHashAlgorithm = .current) throws(FileError) -> Result {
        var walker = Walker(algorithm: algorithm)
        for p in paths { try walker.addArgument(p) }
        let manifest = try Manifest(entries: walker.entries)
        return Result(manifest: manifest, sources: walker.sources, skipped: walker.skipped, stats: walker.stats)
    }

    /// Most directory entries looked at in one build (files, folders and skipped things): 10^6.
    static let maxVisited = 1_000_000

    struct Walker {
        let algorithm: FileHashAlgorithm
        var entries: [ManifestEntry] = []
        var sources: [SourceFile] = []
        var skipped: [Skipped] = []
        var stats = Stats()
        var zeroHashes: [Int: [UInt8]] = [:]
        var visited = 0
        var totalChunks = 0

        init(algorithm: FileHashAlgorithm) { self.algorithm = algorithm }

        mutating func addArgument(_ path: String) throws(FileError) {
            guard let status = try statAt(AT_FDCWD, path, path: path) else { throw ioError("stat", path, ENOENT) }
            if status.isSymlink { throw .symlinkRefused(SafePath.displaySafe(path)) }
            let name = Self.nfc(try Self.baseName(path))
            try SafePath.validateComponent(name)
            if status.isRegular {
                let fd = openAt(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                guard fd >= 0 else { throw ioError("open", path) }
                try addFile(Descriptor(fd), components: [name], path: path)
            } else if status.isDirectory {
                let fd = openAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                guard fd >= 0 else { throw ioError("open", path) }
                try walk(Descriptor(fd), components: [name], path: path)
            } else {
                throw .notRegularFile(SafePath.displaySafe(path))
            }
        }

        /// The last component of `path`, resolving "." and ".." (and "/"-only paths) with realpath.
        static func baseName(_ path: String) throws(FileError) -> String {
            let last = path.split(separator: "/").last.map(String.init) ?? ""
            if !last.isEmpty && last != "." && last != ".." { return last }
            guard let resolved = realpath(path, nil) else { throw ioError("resolve", path) }
            defer { free(resolved) }
            let full = String(cString: resolved)
            let base = full.split(separator: "/").last.map(String.init) ?? ""
            guard !base.isEmpty else { throw .unsafeName(name: SafePath.displaySafe(path), problem: .empty) }
            return base
        }

        static func nfc(_ s: String) -> String { s.precomposedStringWithCanonicalMapping }

        mutating func walk(_ dir: Descriptor, components: [String], path: String) throws(FileError) {
            guard components.count < FileLimits.maxComponents else {
                skipped.append(Skipped(path: path, reason: "nested deeper than \(FileLimits.maxComponents) levels"))
                return
            }
            let names = try listNames(dir, path: path)
            if names.isEmpty {
                // The manifest carries files only (PROTOCOL.md §8.1): say so rather than drop it silently.
                skipped.append(Skipped(path: path, reason: "empty folder (folders travel only with the files in them)"))
            }
            var seen: [String: String] = [:]   // NFC name -> the name as found, in this folder
            for raw in names {
                visited += 1
                guard visited <= ManifestBuilder.maxVisited else { throw .tooManyEntries(visited) }
                let childPath = path + "/" + String(decoding: raw, as: UTF8.self)
                guard let original = String(validating: raw, as: UTF8.self) else {
                    skipped.append(Skipped(path: childPath, reason: NameProblem.notUTF8.description))
                    continue
                }
                let name = Self.nfc(original)
                if let twin = seen[name] {
                    // The two look alike on a terminal: show each name's UTF-8 bytes too.
                    func shown(_ p: String, _ n: String) -> String {
                        SafePath.displaySafe(p) + " (UTF-8 " + n.utf8.map { String($0, radix: 16) }.joined(separator: " ") + ")"
                    }
                    throw .normalizationTwins(first: shown(path + "/" + twin, twin), second: shown(childPath, original))
                }
                seen[name] = original
                do {
                    try SafePath.validate(components + [name])
                } catch {
                    if case let .unsafeName(_, problem) = error { skipped.append(Skipped(path: childPath, reason: problem.description)) }
                    continue
                }
                guard let status = try statAt(dir.raw, original, path: childPath) else { continue }   // vanished
                if status.isSymlink {
                    skipped.append(Skipped(path: childPath, reason: "symbolic link (not followed)"))
                } else if status.isDirectory {
                    let fd = openAt(dir.raw, original, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                    guard fd >= 0 else { throw ioError("open", childPath) }
                    try walk(Descriptor(fd), components: components + [name], path: childPath)
                } else if status.isRegular {
                    let fd = openAt(dir.raw, original, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                    guard fd >= 0 else { throw ioError("open", childPath) }
                    try addFile(Descriptor(fd), components: components + [name], path: childPath)
                } else {
                    skipped.append(Skipped(path: childPath, reason: "not a regular file or folder"))
                }
            }
        }

        /// The names in `dir` (without "." and ".."), sorted by bytes.
        func listNames(_ dir: Descriptor, path: String) throws(FileError) -> [[UInt8]] {
            // fdopendir takes ownership of its descriptor: give it a fresh one of the same folder.
            let fd = openAt(dir.raw, ".", O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else { throw ioError("open", path) }
            guard let stream = fdopendir(fd) else { _ = close(fd); throw ioError("opendir", path) }
            defer { closedir(stream) }
            var names: [[UInt8]] = []
            var count = 0
            while count <= ManifestBuilder.maxVisited {   // bounded by the folder and the cap
                count += 1
                errno = 0
                guard let entry = readdir(stream) else {
                    if errno != 0 { throw ioError("readdir", path) }
                    break
                }
                let name: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    return Array(bytes[0 ..< (bytes.firstIndex(of: 0) ?? bytes.count)])
                }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                names.append(name)
            }
            return names.sorted { $0.lexicographicallyPrecedes($1) }
        }

        mutating func addFile(_ file: Descriptor, components: [String], path: String) throws(FileError) {
            let before = try fileStatus(file.raw, path: path)
            guard before.isRegular else { throw .notRegularFile(SafePath.displaySafe(path)) }
            guard entries.count < FileLimits.maxEntries else { throw .tooManyEntries(entries.count + 1) }
            guard before.size <= FileLimits.maxFileSize else { throw .fileTooLarge(entry: entries.count, size: before.size) }
            let chunkSize = ChunkSizing.chunkSize(forFileSize: before.size)
            let count = Int(ChunkSizing.chunkCount(fileSize: before.size, chunkSize: chunkSize))
            totalChunks += count
            guard totalChunks <= FileLimits.maxTotalChunks else { throw .tooManyChunks(totalChunks) }
            var hashes = [UInt8]()
            hashes.reserveCapacity(count * FileLimits.hashBytes)
            var buffer = [UInt8](repeating: 0, count: count == 0 ? 0 : min(chunkSize, Int(before.size)))
            for i in 0..<count {
                let offset = UInt64(i) * UInt64(chunkSize)
                let length = ChunkSizing.chunkLength(index: i, fileSize: before.size, chunkSize: chunkSize)
                if isHole(file.raw, offset: offset, length: length) {
                    hashes += zeroHash(length)
                    stats.bytesInHoles += UInt64(length)
                    continue
                }
                let n = try preadFully(file.raw, into: &buffer, count: length, offset: offset, path: path)
                guard n == length else { throw .sourceChanged(SafePath.displaySafe(path)) }
                stats.bytesRead += UInt64(n)
                stats.chunksHashed += 1
                hashes += buffer.withUnsafeBytes { MerkleTree.chunkHash(UnsafeRawBufferPointer(rebasing: $0[0..<length]), algorithm) }
            }
            let after = try fileStatus(file.raw, path: path)
            guard after.size == before.size, after.mtimeSeconds == before.mtimeSeconds,
                  after.mtimeNanoseconds == before.mtimeNanoseconds, after.identity == before.identity else {
                throw .sourceChanged(SafePath.displaySafe(path))
            }
            entries.append(try ManifestEntry(path: components, size: before.size, mode: UInt32(before.mode) & 0o777,
                                             chunkSize: chunkSize, chunkHashes: hashes, hashAlgorithm: algorithm))
            sources.append(SourceFile(path: path, size: before.size, mtimeSeconds: before.mtimeSeconds,
                                      mtimeNanoseconds: before.mtimeNanoseconds, identity: before.identity))
        }

        mutating func zeroHash(_ length: Int) -> [UInt8] {
            if let h = zeroHashes[length] { return h }
            let h = MerkleTree.chunkHash([UInt8](repeating: 0, count: length), algorithm)
            stats.chunksHashed += 1
            zeroHashes[length] = h
            return h
        }
    }
}
