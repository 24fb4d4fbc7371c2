import HarkCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file being received (PROTOCOL.md §8.5): a part file
/// `<target>/.hark-partial/<manifest ID hex>/<entry index>.part` written chunk by chunk with
/// pwrite, and a bitmap file `<entry index>.bitmap` next to it recording which chunks are
/// verified and durably written. Made by `FetchTarget.stage(entry:)`.
///
/// Bitmap file layout (all integers little-endian):
///
///     0   8 B  magic "HARKPRT2"
///     8  32 B  manifest ID
///    40  32 B  file root of the entry
///    72   8 B  file size
///    80   4 B  chunk size
///    84   4 B  chunk count n
///    88  48 B  the part file's identity when the bitmap was last written: device, inode, size
///              (8 B each), mtime seconds (8 B), nanoseconds (4 B), ctime seconds (8 B),
///              nanoseconds (4 B)
///   136       ceil(n / 8) B ChunkBitmap bytes (bit i = chunk i verified and written)
///
/// On open, a bitmap whose header does not match the manifest, or a part file that is not a
/// regular file of exactly the entry's size, is discarded and the file restarts from nothing.
/// A matching bitmap is trusted only while the part file's identity is the one recorded after
/// this object's last write to it (one fstat; nothing is read): when anything else wrote to the part file since (its mtime or
/// ctime moved), every chunk is read and re-hashed, the bits of those that match are kept, and
/// the ranges of the others are zeroed (PROTOCOL.md §8.5). A chunk read back to serve it to
/// another fetcher is re-hashed first; a commit re-hashes everything when the part file changed
/// since this object's own last write. So no byte reaches the final name, and no chunk is
/// served, unless it matched the manifest since it last changed on disk.
///
/// Not thread-safe: one owner. Dropping the object without `flush()` behaves like a crash: the
/// chunks written since the last flush are fetched again on resume.
public final class StagedFile {
    /// What this object did; counts only since it was opened.
    public struct Stats: Sendable, Equatable {
        /// Chunks hashed (on arrival, and by `rehashOnCommit`).
        public var chunksHashed = 0
        /// Bytes hashed.
        public var bytesHashed: UInt64 = 0
        /// Bytes of chunk data read back from the part file (only `rehashOnCommit` reads).
        public var bytesReadForVerification: UInt64 = 0
        /// Chunks written with pwrite (all-zero chunks are not written: the part file is sparse).
        public var chunksWritten = 0
        /// Chunks taken as verified from a persisted bitmap when the file was opened (after the
        /// re-hash, when the part file had changed).
        public var chunksResumed = 0
        /// True when the part file had changed since its bitmap was written, so every chunk was
        /// read and re-hashed on open.
        public var resumeRehashed = false
        /// Chunks whose bit was set but whose bytes no longer matched (found on open, on a read
        /// for serving, or on commit); each is fetched again.
        public var chunksDamaged = 0
        /// Bitmap persists.
        public var flushes = 0
        /// Chunks marked by `markIfZero` (all-zero in the manifest: never fetched nor written).
        public var chunksZero = 0
    }

    static let magic = Array("HARKPRT2".utf8)
    static let headerBytes = 88
    static let identityBytes = 48
    static let bitmapOffset = headerBytes + identityBytes

    public let entryIndex: Int
    public let entry: ManifestEntry
    /// Verified chunks (local indices 0 ..< entry.chunkCount).
    public private(set) var have: ChunkBitmap
    public private(set) var stats = Stats()
    /// True once `commit` moved the file into place.
    public private(set) var isCommitted = false

    private let target: FetchTarget
    private let part: Descriptor
    private let bitmapFile: Descriptor
    private let partName: String
    private let bitmapName: String
    private var unflushed = 0
    /// The part file's status after this object's own last write or check: a different one at
    /// commit means something else wrote to it.
    private var lastIdentity: [UInt8] = []
    /// The part file opened a second time with O_DIRECT (Linux), for whole aligned chunks: see
    /// `writeDirect`. nil where the file system refuses it (tmpfs on older kernels) or after a
    /// direct write failed with EINVAL; the buffered descriptor then does everything.
    private var direct: Descriptor?
    static let directAlignment = 4096

    /// Chunks still missing.
    public var missingCount: Int { entry.chunkCount - have.setCount }
    public var isComplete: Bool { have.isFull }

    init(target: FetchTarget, entryIndex: Int) throws(FileError) {
        self.target = target
        self.entryIndex = entryIndex
        entry = target.manifest.entries[entryIndex]
        partName = "\(entryIndex).part"
        bitmapName = "\(entryIndex).bitmap"
        let shownPart = target.directoryPath + "/" + FileDomain.stagingFolder + "/" + target.stagingName + "/" + partName
        if !target.options.force, try target.destinationExists(entry: entryIndex) {
            throw .alreadyExists(entry.displayName)
        }
        let header = Self.header(manifest: target.manifest.id, entry: entry)
        if let resumed = try Self.resume(staging: target.staging.raw, partName: partName, bitmapName: bitmapName,
                                         header: header, entry: entry, shownPart: shownPart) {
            (part, bitmapFile, have) = (resumed.part, resumed.bitmapFile, resumed.bitmap)
            lastIdentity = resumed.identity
            if !resumed.unchanged { try reverifyAll() }
            stats.chunksResumed = have.setCount
            direct = Self.openDirect(staging: target.staging.raw, partName: partName)
            return
        }
        // Fresh start: drop leftovers (ignore "not there"), then create both with O_EXCL.
        _ = unlinkat(target.staging.raw, partName, 0)
        _ = unlinkat(target.staging.raw, bitmapName, 0)
        let pfd = openAt(target.staging.raw, partName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard pfd >= 0 else { throw ioError("create", shownPart) }
        part = Descriptor(pfd)
        guard ftruncate(pfd, off_t(entry.size)) == 0 else { throw ioError("truncate", shownPart) }
        let bfd = openAt(target.staging.raw, bitmapName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard bfd >= 0 else { throw ioError("create", shownPart) }
        bitmapFile = Descriptor(bfd)
        have = ChunkBitmap(count: entry.chunkCount)
        lastIdentity = Self.identity(try fileStatus(pfd, path: shownPart))
        try pwriteFully(bfd, header + lastIdentity + have.bytes, offset: 0, path: bitmapName)
        direct = Self.openDirect(staging: target.staging.raw, partName: partName)
    }


    /// The part file for O_DIRECT writes, or nil.
    ///
    /// Why: a received chunk is made durable anyway (fdatasync every `flushEveryChunks`), so
    /// the page cache buys no write-behind, while copying every byte into it costs the receiver
    /// about as much CPU as hashing (and much more on a VM whose fresh page-cache pages fault on
    /// the host). A direct write moves the chunk from its page-aligned `ChunkBuffer` to the disk.
    private static func openDirect(staging: Int32, partName: String) -> Descriptor? {
        #if os(Linux)
        // O_DIRECT needs _GNU_SOURCE in C, so Glibc does not export it to Swift.
        #if arch(x86_64)
        let oDirect: Int32 = 0o40000
        #elseif arch(arm64) || arch(arm)
        let oDirect: Int32 = 0o200000
        #else
        return nil
        #endif
        let fd = openAt(staging, partName, O_WRONLY | O_NOFOLLOW | oDirect)
        return fd >= 0 ? Descriptor(fd) : nil
        #else
        return nil
        #endif
    }

    /// Writes a verified chunk with O_DIRECT when its memory (a `ChunkBuffer`), offset and
    /// length are aligned (every chunk but usually the last); false when it was not written that
    /// way (the caller writes it buffered). Direct and buffered writes to one file stay coherent
    /// (the kernel writes back and drops cached pages of the range before a direct write).
    private func writeDirect(aligned bytes: UnsafeRawBufferPointer, offset: UInt64) throws(FileError) -> Bool {
        guard let fd = direct?.raw, let base = bytes.baseAddress, !bytes.isEmpty,
              bytes.count % Self.directAlignment == 0, Int(bitPattern: base) % Self.directAlignment == 0,
              offset % UInt64(Self.directAlignment) == 0 else { return false }
        var done = 0
        var interrupts = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR && interrupts < maxEINTRRetries { interrupts += 1; continue }
                if errno == EINVAL && done == 0 { direct = nil; return false }
                throw ioError("write", partName)
            }
            if n == 0 { throw ioError("write", partName, EIO) }
            done += n
        }
        return true
    }

    static func header(manifest: ManifestID, entry: ManifestEntry) -> [UInt8] {
        var h = magic
        h += manifest.bytes
        h += entry.root
        h += littleEndian(entry.size, bytes: 8)
        h += littleEndian(UInt64(entry.chunkSize), bytes: 4)
        h += littleEndian(UInt64(entry.chunkCount), bytes: 4)
        return h
    }

    /// The 48-byte identity block of the bitmap file (layout above).
    static func identity(_ status: FileStatus) -> [UInt8] {
        var b = littleEndian(status.identity.device, bytes: 8)
        b += littleEndian(status.identity.inode, bytes: 8)
        b += littleEndian(status.size, bytes: 8)
        b += littleEndian(UInt64(bitPattern: status.mtimeSeconds), bytes: 8)
        b += littleEndian(UInt64(truncatingIfNeeded: status.mtimeNanoseconds), bytes: 4)
        b += littleEndian(UInt64(bitPattern: status.identity.ctimeSeconds), bytes: 8)
        b += littleEndian(UInt64(truncatingIfNeeded: status.identity.ctimeNanoseconds), bytes: 4)
        return b
    }

    private struct Resumed {
        var part: Descriptor
        var bitmapFile: Descriptor
        var bitmap: ChunkBitmap
        var identity: [UInt8]
        /// The part file's identity is the one recorded with the bitmap.
        var unchanged: Bool
    }

    private static func resume(staging: Int32, partName: String, bitmapName: String, header: [UInt8],
                               entry: ManifestEntry, shownPart: String) throws(FileError) -> Resumed? {
        let bfd = openAt(staging, bitmapName, O_RDWR | O_NOFOLLOW)
        guard bfd >= 0 else { return nil }
        let bitmapFile = Descriptor(bfd)
        let length = bitmapOffset + (entry.chunkCount + 7) / 8
        var bytes = [UInt8](repeating: 0, count: length + 1)   // one more byte: detect a longer file
        let n = try preadFully(bfd, into: &bytes, count: length + 1, offset: 0, path: bitmapName)
        guard n == length, Array(bytes[0..<headerBytes]) == header,
              let bitmap = ChunkBitmap(count: entry.chunkCount, bytes: Array(bytes[bitmapOffset..<length])) else { return nil }
        let pfd = openAt(staging, partName, O_RDWR | O_NOFOLLOW)
        guard pfd >= 0 else { return nil }
        let part = Descriptor(pfd)
        let status = try fileStatus(pfd, path: shownPart)
        guard status.isRegular, status.size == entry.size else { return nil }
        let now = identity(status)
        return Resumed(part: part, bitmapFile: bitmapFile, bitmap: bitmap, identity: now,
                       unchanged: now == Array(bytes[headerBytes..<bitmapOffset]))
    }

    /// The part file changed behind the bitmap's back: reads and re-hashes every chunk, keeps
    /// (and adds) the bits of the chunks that match, zeroes the ranges of the others that are
    /// not already zero (so "a range holds only its chunk's bytes or zeros" holds again, which
    /// `markIfZero` and the skipped write of an all-zero chunk rely on), and records the bitmap
    /// with the part file's new identity. Reads every range that holds data (holes are skipped
    /// with SEEK_DATA): at most S bytes.
    /// - Throws: `.io`.
    private func reverifyAll() throws(FileError) {
        stats.resumeRehashed = true
        var fresh = ChunkBitmap(count: entry.chunkCount)
        var buffer = [UInt8](repeating: 0, count: min(entry.chunkSize, Int(max(entry.size, 1))))
        for i in 0..<entry.chunkCount {
            let length = entry.chunkLength(i)
            // A range that is still a hole (never written: the fetch had not got there) reads
            // as zeros: it matches only an all-zero chunk, and nothing needs reading.
            if isHole(part.raw, offset: entry.chunkOffset(i), length: length) {
                if entry.chunkHash(i) == zeroHash(length: length) { fresh.insert(i) } else if have.contains(i) { stats.chunksDamaged += 1 }
                continue
            }
            let n = try preadFully(part.raw, into: &buffer, count: length, offset: entry.chunkOffset(i), path: partName)
            stats.bytesReadForVerification += UInt64(n)
            stats.chunksHashed += 1
            stats.bytesHashed += UInt64(n)
            let data = n == buffer.count ? buffer : Array(buffer[0..<n])
            if n == length, entry.hash(chunk: data) == entry.chunkHash(i) {
                fresh.insert(i)
                continue
            }
            if have.contains(i) { stats.chunksDamaged += 1 }
            try pwriteFully(part.raw, [UInt8](repeating: 0, count: length), offset: entry.chunkOffset(i), path: partName)
        }
        have = fresh
        unflushed += 1
        try flush()
    }

    /// Clears chunk `index`: its bytes did not match; zeroes its range and persists the bitmap.
    private func dropDamaged(chunk index: Int) throws(FileError) {
        stats.chunksDamaged += 1
        have.remove(index)
        try pwriteFully(part.raw, [UInt8](repeating: 0, count: entry.chunkLength(index)),
                        offset: entry.chunkOffset(index), path: partName)
        unflushed += 1
        try flush()
    }

    /// Verifies chunk `index` (local to this entry) against the manifest and writes it at its
    /// offset. A chunk already held is ignored without hashing. Persists the bitmap every
    /// `flushEveryChunks` new chunks.
    /// - Returns: true when the chunk was new.
    /// - Throws: `.chunkOutOfRange`, `.wrongChunkLength`, `.chunkHashMismatch` (nothing is
    ///   written; the sender is corrupt or lying), `.io`.
    @discardableResult
    public func write(chunk index: Int, data: [UInt8]) throws(FileError) -> Bool {
        precondition(!isCommitted, "write after commit")
        guard index >= 0 && index < entry.chunkCount else { throw .chunkOutOfRange(entry: entryIndex, chunk: index) }
        if have.contains(index) { return false }
        let buffer = ChunkBuffer(count: data.count)
        data.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        return try write(chunk: index, hashed: HashedChunk(hashing: buffer, entry.hashAlgorithm))
    }

    /// Writes chunk `index` from a `HashedChunk` (hashed by the caller, on any thread) after
    /// checking its hash against the manifest: the path of a fetch, where hashing runs beside
    /// the writer. A page-aligned whole chunk goes straight to an O_DIRECT write, without a copy.
    /// - Returns: true when the chunk was new.
    /// - Throws: as `write(chunk:data:)`.
    @discardableResult
    public func write(chunk index: Int, hashed: HashedChunk) throws(FileError) -> Bool {
        precondition(!isCommitted, "write after commit")
        guard index >= 0 && index < entry.chunkCount else { throw .chunkOutOfRange(entry: entryIndex, chunk: index) }
        if have.contains(index) { return false }
        let expected = entry.chunkLength(index)
        guard hashed.buffer.count == expected else {
            throw .wrongChunkLength(entry: entryIndex, chunk: index, expected: expected, actual: hashed.buffer.count)
        }
        stats.chunksHashed += 1
        stats.bytesHashed += UInt64(expected)
        guard hashed.hash == entry.chunkHash(index) else { throw .chunkHashMismatch(entry: entryIndex, chunk: index) }
        let bytes = UnsafeRawBufferPointer(hashed.buffer.bytes)
        let allZero = bytes.first == 0 && bytes.last == 0 && hashed.hash == zeroHash(length: expected)
        if !allZero {
            let offset = entry.chunkOffset(index)
            if try !writeDirect(aligned: bytes, offset: offset) {
                try pwriteFully(part.raw, bytes, offset: offset, path: partName)
            }
            stats.chunksWritten += 1
            // Record the part file's new identity at once (no fsync; one fstat and a 48-byte
            // pwrite): a process killed now resumes from its bitmap without re-reading anything,
            // while a change by anyone else afterwards moves ctime past what is recorded.
            lastIdentity = Self.identity(try fileStatus(part.raw, path: partName))
            try pwriteFully(bitmapFile.raw, lastIdentity, offset: UInt64(Self.headerBytes), path: bitmapName)
        }
        have.insert(index)
        unflushed += 1
        if unflushed >= target.options.flushEveryChunks { try flush() }
        return true
    }

    /// Chunk `index` read back from the part file and re-hashed, if it is verified (written
    /// after its hash matched, or all-zero in the manifest, which reads as zeros from the hole)
    /// and its bytes still match; nil otherwise or after `commit`. For serving a file to other
    /// fetchers before it is complete. A chunk whose bytes changed on disk is dropped (its range
    /// zeroed, its bit cleared) and fetched again. Costs one chunk hash per call.
    /// - Throws: `.io`.
    public func readVerified(chunk index: Int) throws(FileError) -> [UInt8]? {
        guard !isCommitted, index >= 0, index < entry.chunkCount, have.contains(index) else { return nil }
        let length = entry.chunkLength(index)
        var data = [UInt8](repeating: 0, count: length)
        let n = try preadFully(part.raw, into: &data, count: length, offset: entry.chunkOffset(index), path: partName)
        stats.bytesReadForVerification += UInt64(n)
        stats.chunksHashed += 1
        stats.bytesHashed += UInt64(n)
        guard n == length, entry.hash(chunk: data) == entry.chunkHash(index) else {
            try dropDamaged(chunk: index)
            return nil
        }
        return data
    }

    /// Marks chunk `index` verified without any data when the manifest's hash of it is the hash
    /// of all zeros of its length: its range in the part file is still a hole (only a chunk's
    /// own bytes are ever written to its range), so it already holds exactly the offered bytes.
    /// Nothing is read, written or fetched; only the zero hash of each length is computed, once.
    /// - Returns: true when the chunk is (now or already) held, false when its hash is not the
    ///   zero hash (it must be fetched).
    /// - Throws: `.chunkOutOfRange`, `.io` (when a bitmap persist is due).
    @discardableResult
    public func markIfZero(chunk index: Int) throws(FileError) -> Bool {
        precondition(!isCommitted, "write after commit")
        guard index >= 0 && index < entry.chunkCount else { throw .chunkOutOfRange(entry: entryIndex, chunk: index) }
        if have.contains(index) { return true }
        guard entry.chunkHash(index) == zeroHash(length: entry.chunkLength(index)) else { return false }
        have.insert(index)
        stats.chunksZero += 1
        unflushed += 1
        if unflushed >= target.options.flushEveryChunks { try flush() }
        return true
    }

    /// Makes every chunk written so far durable and records it in the bitmap:
    /// fdatasync(part), write the bitmap, fdatasync(bitmap). Cheap when nothing is new.
    /// - Throws: `.io`.
    public func flush() throws(FileError) {
        guard unflushed > 0 else { return }
        guard fsyncData(part.raw) else { throw ioError("sync", partName) }
        lastIdentity = Self.identity(try fileStatus(part.raw, path: partName))
        try pwriteFully(bitmapFile.raw, lastIdentity + have.bytes, offset: UInt64(Self.headerBytes), path: bitmapName)
        guard fsyncData(bitmapFile.raw) else { throw ioError("sync", bitmapName) }
        unflushed = 0
        stats.flushes += 1
    }

    /// Finishes the file: checks every chunk is verified and the root of the manifest's chunk
    /// hashes matches the entry root (no file data is read unless `rehashOnCommit`), sets the
    /// mode (manifest mode & modeMask | 0o400), persists the bitmap, fsyncs, creates the destination's folders
    /// (mkdirat, O_NOFOLLOW per component) and renames the part file into place: without
    /// `force` with renameat2(RENAME_NOREPLACE) or link+unlink, so an existing file is never
    /// replaced even if it appeared during the fetch; with `force` with renameat, which replaces
    /// a file or a symlink (never following it). Then removes the bitmap and fsyncs the folder.
    /// - Returns: the destination relative to the target folder ("/"-joined, raw).
    /// - Throws: `.incomplete`, `.rootMismatch`, `.alreadyExists` (the part file stays, complete,
    ///   and resumes), `.unsafeTarget`, `.chunkHashMismatch` if `rehashOnCommit` finds a damaged
    ///   part file (its bit is cleared so the chunk is fetched again), `.io`.
    @discardableResult
    public func commit() throws(FileError) -> String {
        precondition(!isCommitted, "commit twice")
        guard have.isFull else { throw .incomplete(entry: entryIndex, missing: missingCount) }
        guard MerkleTree.fileRoot(size: entry.size, chunkSize: entry.chunkSize, flatHashes: entry.chunkHashes, entry.hashAlgorithm) == entry.root else {
            throw .rootMismatch(entry: entryIndex)
        }
        // Re-hash when asked, or when something other than this object wrote to the part file
        // since its last write (its mtime or ctime moved).
        let changed = Self.identity(try fileStatus(part.raw, path: partName)) != lastIdentity
        if target.options.rehashOnCommit || changed { try rehashAll() }
        // Record everything first, so a commit that fails (destination appeared, unsafe
        // folder) leaves a part file that resumes complete.
        try flush()
        let mode = (entry.mode & target.options.modeMask) | 0o400
        guard fchmod(part.raw, mode_t(mode)) == 0 else { throw ioError("chmod", partName) }
        guard fsync(part.raw) == 0 else { throw ioError("sync", partName) }
        let shown = entry.relativePath
        guard let folder = try openFolder(target.root, entry.path.dropLast(), create: true, shownAs: shown) else {
            throw ioError("open", shown, ENOENT)
        }
        let name = entry.path.last!
        if target.options.force {
            guard renameat(target.staging.raw, partName, folder.raw, name) == 0 else { throw ioError("rename", shown) }
        } else {
            try renameNoReplace(target.staging.raw, partName, folder.raw, name, shownAs: shown)
        }
        isCommitted = true
        _ = unlinkat(target.staging.raw, bitmapName, 0)
        _ = fsync(folder.raw)
        return shown
    }

    /// Deletes the part file and the bitmap (an abandoned fetch).
    public func discard() {
        guard !isCommitted else { return }
        _ = unlinkat(target.staging.raw, partName, 0)
        _ = unlinkat(target.staging.raw, bitmapName, 0)
    }

    private var zeroHashes: [Int: [UInt8]] = [:]   // at most two lengths: chunkSize and the last

    private func zeroHash(length: Int) -> [UInt8] {
        if let h = zeroHashes[length] { return h }
        let h = entry.hash(chunk: [UInt8](repeating: 0, count: length))
        zeroHashes[length] = h
        return h
    }

    private func rehashAll() throws(FileError) {
        var buffer = [UInt8](repeating: 0, count: min(entry.chunkSize, Int(max(entry.size, 1))))
        for i in 0..<entry.chunkCount {
            let length = entry.chunkLength(i)
            let n = try preadFully(part.raw, into: &buffer, count: length, offset: entry.chunkOffset(i), path: partName)
            stats.bytesReadForVerification += UInt64(n)
            stats.chunksHashed += 1
            stats.bytesHashed += UInt64(n)
            let data = n == buffer.count ? buffer : Array(buffer[0..<n])
            guard n == length, entry.hash(chunk: data) == entry.chunkHash(i) else {
                // Restore the invariant "a range holds only its chunk's bytes or zeros".
                try dropDamaged(chunk: i)
                throw .chunkHashMismatch(entry: entryIndex, chunk: i)
            }
        }
    }
}

func fsyncData(_ fd: Int32) -> Bool {
    #if os(Linux)
    return fdatasync(fd) == 0
    #else
    return fsync(fd) == 0
    #endif
}
