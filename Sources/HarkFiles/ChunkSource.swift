#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A local file as it was when its manifest entry was built: where it is and what `stat` said.
/// Value type; thread-safe.
public struct SourceFile: Sendable, Equatable {
    /// Local path (as given to the builder, joined with the names below it).
    public let path: String
    /// Size in bytes at build time.
    public let size: UInt64
    /// Modification time at build time: seconds and nanoseconds since the Unix epoch.
    public let mtimeSeconds: Int64
    public let mtimeNanoseconds: Int64

    public init(path: String, size: UInt64, mtimeSeconds: Int64, mtimeNanoseconds: Int64) {
        self.path = path
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
    }
}

/// The serving side (PROTOCOL.md §10.4): reads chunks of offered files and refuses to serve
/// anything that is not exactly the offered chunk. Each read opens the file (O_NOFOLLOW),
/// checks size and mtime against the build-time `SourceFile`, reads the chunk with pread,
/// re-hashes it and compares with the manifest. Memory: one chunk (≤ 64 MiB) per call.
/// Immutable; thread-safe (calls may run concurrently).
public struct ChunkSource: Sendable {
    public let manifest: Manifest
    public let files: [SourceFile]

    /// `files[i]` is the local file of `manifest.entries[i]`.
    public init(manifest: Manifest, files: [SourceFile]) {
        precondition(files.count == manifest.entries.count, "one SourceFile per entry")
        self.manifest = manifest
        self.files = files
    }

    /// The result of `ManifestBuilder.build`.
    public init(_ built: ManifestBuilder.Result) {
        self.init(manifest: built.manifest, files: built.sources)
    }

    /// The bytes of chunk `chunk` of entry `entry`, guaranteed to hash to the manifest's hash.
    /// - Throws: `.sourceChanged(path)` when the file's size or mtime differ from build time,
    ///   it is shorter than the chunk, or the chunk's hash differs; `.chunkOutOfRange`;
    ///   `.symlinkRefused`/`.notRegularFile` if the file was replaced by one; `.io`.
    public func read(entry: Int, chunk: Int) throws(FileError) -> [UInt8] {
        guard entry >= 0 && entry < manifest.entries.count else { throw .chunkOutOfRange(entry: entry, chunk: chunk) }
        let e = manifest.entries[entry]
        guard chunk >= 0 && chunk < e.chunkCount else { throw .chunkOutOfRange(entry: entry, chunk: chunk) }
        let source = files[entry]
        let fd = openAt(AT_FDCWD, source.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw .symlinkRefused(SafePath.displaySafe(source.path)) }
            if errno == ENOENT { throw .sourceChanged(SafePath.displaySafe(source.path)) }
            throw ioError("open", source.path)
        }
        let file = Descriptor(fd)
        let status = try fileStatus(file.raw, path: source.path)
        guard status.isRegular else { throw .notRegularFile(SafePath.displaySafe(source.path)) }
        guard status.size == source.size, status.size == e.size,
              status.mtimeSeconds == source.mtimeSeconds, status.mtimeNanoseconds == source.mtimeNanoseconds else {
            throw .sourceChanged(SafePath.displaySafe(source.path))
        }
        let length = e.chunkLength(chunk)
        var data = [UInt8](repeating: 0, count: length)
        // A hole reads as zeros: nothing to read, and `data` is zeros already.
        if !isHole(file.raw, offset: e.chunkOffset(chunk), length: length) {
            let n = try preadFully(file.raw, into: &data, count: length, offset: e.chunkOffset(chunk), path: source.path)
            guard n == length else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
        }
        guard MerkleTree.chunkHash(data) == e.chunkHash(chunk) else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
        return data
    }

    /// `read(entry:chunk:)` by manifest-wide chunk index (`ChunkLayout`).
    public func read(global: Int) throws(FileError) -> [UInt8] {
        guard global >= 0 && global < manifest.chunkCount else { throw .chunkOutOfRange(entry: -1, chunk: global) }
        let (e, c) = manifest.layout.locate(global)
        return try read(entry: e, chunk: c)
    }
}
