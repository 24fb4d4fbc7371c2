#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What besides size and mtime tells that a file is still the one that was hashed: its device,
/// inode and status-change time (ctime). The kernel sets ctime to the current time on every
/// write, truncate, chmod or rename, and no system call sets it to a chosen value (unlike mtime,
/// which `touch -d` can restore), so a file whose identity is unchanged has not been written
/// through the file system since. Value type; thread-safe.
public struct SourceIdentity: Sendable, Equatable, Codable {
    public var device: UInt64
    public var inode: UInt64
    public var ctimeSeconds: Int64
    public var ctimeNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, ctimeSeconds: Int64, ctimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.ctimeSeconds = ctimeSeconds
        self.ctimeNanoseconds = ctimeNanoseconds
    }
}

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
    /// Device, inode and ctime at build time; nil for sources recorded before hark kept them,
    /// which are re-hashed on every read instead.
    public let identity: SourceIdentity?

    public init(path: String, size: UInt64, mtimeSeconds: Int64, mtimeNanoseconds: Int64, identity: SourceIdentity? = nil) {
        self.path = path
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.identity = identity
    }

    func matches(_ status: FileStatus) -> Bool {
        status.size == size && status.mtimeSeconds == mtimeSeconds && status.mtimeNanoseconds == mtimeNanoseconds
            && (identity == nil || status.identity == identity)
    }
}

/// The serving side (PROTOCOL.md §8.4): reads chunks of offered files and refuses to serve
/// anything that is not the offered chunk. Each read opens the file (O_NOFOLLOW) and checks,
/// before and after reading, that size, mtime, device, inode and ctime are those recorded
/// when the manifest was built; when they are not (or the source was recorded without an
/// identity) but the size is, the chunk is re-hashed and served only if it matches.
/// Receivers verify every chunk against the manifest in any case, so no check here can let a
/// mix of old and new bytes into a received file. Immutable; thread-safe (calls may run
/// concurrently).
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

    /// True when every source file is still there as a regular file of its recorded size (one
    /// `lstat` each, no data read): a deleted or truncated source is not held any more. A file
    /// of the right size may still fail its chunk checks when read.
    public var isPresent: Bool {
        files.allSatisfy { f in
            var st = stat()
            return lstat(f.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && UInt64(st.st_size) == f.size
        }
    }

    /// How a read made sure the bytes are the offered ones.
    public enum Check: Sendable, Equatable {
        /// Size, mtime, device, inode and ctime equal the recorded ones before and after the read.
        case identity
        /// The file's identity differs from the recorded one (or none was recorded), its size
        /// does not: the bytes were hashed and matched the manifest.
        case rehashed
    }

    /// Reads chunk `global` (manifest-wide, `ChunkLayout`) into `regions`: consecutive pieces
    /// of the chunk in order, whose counts add up to the chunk's length.
    /// - Returns: which check vouched for the bytes.
    /// - Throws: `.sourceChanged(path)` when the file is not the one recorded (size, mtime,
    ///   identity, before or after the read), is shorter than the chunk, or — without an
    ///   identity — the chunk's hash differs; `.chunkOutOfRange`; `.symlinkRefused` /
    ///   `.notRegularFile` if the file was replaced by one; `.io`.
    @discardableResult
    public func read(global: Int, into regions: [UnsafeMutableRawBufferPointer]) throws(FileError) -> Check {
        guard global >= 0 && global < manifest.chunkCount else { throw .chunkOutOfRange(entry: -1, chunk: global) }
        let (entry, chunk) = manifest.layout.locate(global)
        let e = manifest.entries[entry]
        let source = files[entry]
        let length = e.chunkLength(chunk)
        precondition(regions.reduce(0) { $0 + $1.count } == length, "regions must cover the chunk")
        let fd = openAt(AT_FDCWD, source.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw .symlinkRefused(SafePath.displaySafe(source.path)) }
            if errno == ENOENT { throw .sourceChanged(SafePath.displaySafe(source.path)) }
            throw ioError("open", source.path)
        }
        let file = Descriptor(fd)
        let before = try fileStatus(file.raw, path: source.path)
        guard before.isRegular else { throw .notRegularFile(SafePath.displaySafe(source.path)) }
        guard before.size == source.size, before.size == e.size else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
        // Unchanged identity: the bytes are the hashed ones. Otherwise (touched, chmod'ed, copied
        // back, or recorded without an identity) the chunk is served only if it still hashes right.
        let hasher = source.identity != nil && source.matches(before) ? nil : e.chunkHasher()
        // A hole reads as zeros: nothing to read.
        let hole = isHole(file.raw, offset: e.chunkOffset(chunk), length: length)
        var offset = e.chunkOffset(chunk)
        for region in regions {
            if hole {
                region.initializeMemory(as: UInt8.self, repeating: 0)
            } else {
                let n = try preadFully(file.raw, into: region, offset: offset, path: source.path)
                guard n == region.count else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
            }
            hasher?.update(UnsafeRawBufferPointer(region))
            offset += UInt64(region.count)
        }
        if let hasher {
            guard hasher.finalize() == e.chunkHash(chunk) else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
            return .rehashed
        }
        let after = try fileStatus(file.raw, path: source.path)
        if source.matches(after) { return .identity }
        // Changed while it was read: hash what was read.
        let late = e.chunkHasher()
        for region in regions { late.update(UnsafeRawBufferPointer(region)) }
        guard after.size == source.size, late.finalize() == e.chunkHash(chunk) else { throw .sourceChanged(SafePath.displaySafe(source.path)) }
        return .rehashed
    }

    /// The bytes of chunk `chunk` of entry `entry` (one array; tests and small reads).
    /// - Throws: as `read(global:into:)`.
    public func read(entry: Int, chunk: Int) throws(FileError) -> [UInt8] {
        guard entry >= 0 && entry < manifest.entries.count else { throw .chunkOutOfRange(entry: entry, chunk: chunk) }
        let e = manifest.entries[entry]
        guard chunk >= 0 && chunk < e.chunkCount else { throw .chunkOutOfRange(entry: entry, chunk: chunk) }
        return try read(global: manifest.layout.global(entry: entry, chunk: chunk))
    }

    /// `read(entry:chunk:)` by manifest-wide chunk index.
    public func read(global: Int) throws(FileError) -> [UInt8] {
        guard global >= 0 && global < manifest.chunkCount else { throw .chunkOutOfRange(entry: -1, chunk: global) }
        var data = [UInt8](repeating: 0, count: manifest.layout.length(of: global))
        let result: Result<Void, FileError> = data.withUnsafeMutableBytes { raw in
            do throws(FileError) { try read(global: global, into: [raw]); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
        return data
    }
}
