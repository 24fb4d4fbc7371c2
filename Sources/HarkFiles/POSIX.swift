#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Thin, internal wrappers over the POSIX calls HarkFiles needs. Every retry loop is bounded.

func posixStrerror(_ e: Int32) -> UnsafeMutablePointer<CChar> { strerror(e) }

/// An owned file descriptor, closed on deinit. Not thread-safe; owned by one object.
final class Descriptor {
    let raw: Int32
    init(_ raw: Int32) { self.raw = raw }
    deinit { _ = close(raw) }
}

/// How many times a call interrupted by a signal (EINTR) is retried before giving up.
let maxEINTRRetries = 64

func ioError(_ op: String, _ path: String, _ e: Int32 = errno) -> FileError {
    .io(operation: op, path: SafePath.displaySafe(path), errno: e)
}

/// Calls `body` until it does not fail with EINTR (at most `maxEINTRRetries` + 1 times).
func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    var r = body()
    var tries = 0
    while r < 0 && errno == EINTR && tries < maxEINTRRetries {
        tries += 1
        r = body()
    }
    return r
}

func openAt(_ dir: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    retryingEINTR { openat(dir, name, flags | O_CLOEXEC, mode) }
}

/// Reads `count` bytes at `offset` into `buffer` (from its start; `count` ≤ buffer.count).
/// Returns the number read, which is less than `count` only at end of file. Bounded: every
/// iteration reads ≥ 1 byte, hits EOF or fails.
func preadFully(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: UInt64, path: String) throws(FileError) -> Int {
    precondition(count <= buffer.count)
    let result: Result<Int, FileError> = buffer.withUnsafeMutableBytes { raw in
        do throws(FileError) {
            return .success(try preadFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), offset: offset, path: path))
        } catch { return .failure(error) }
    }
    return try result.get()
}

/// `preadFully` into memory: fills `region` from `offset`, or stops at end of file.
/// - Returns: bytes read (< region.count only at end of file).
func preadFully(_ fd: Int32, into region: UnsafeMutableRawBufferPointer, offset: UInt64, path: String) throws(FileError) -> Int {
    var done = 0
    var interrupts = 0
    while done < region.count {
        let n = pread(fd, region.baseAddress! + done, region.count - done, off_t(offset) + off_t(done))
        if n < 0 {
            if errno == EINTR && interrupts < maxEINTRRetries { interrupts += 1; continue }
            throw ioError("read", path)
        }
        if n == 0 { break }
        done += n
    }
    return done
}

/// Writes all of `bytes` at `offset`. Bounded like `preadFully`; a zero-byte write is an error.
func pwriteFully(_ fd: Int32, _ bytes: [UInt8], offset: UInt64, path: String) throws(FileError) {
    let result: Result<Void, FileError> = bytes.withUnsafeBytes { raw in
        do throws(FileError) { try pwriteFully(fd, raw, offset: offset, path: path); return .success(()) } catch { return .failure(error) }
    }
    try result.get()
}

/// `pwriteFully` of memory.
func pwriteFully(_ fd: Int32, _ raw: UnsafeRawBufferPointer, offset: UInt64, path: String) throws(FileError) {
    var done = 0
    var interrupts = 0
    while done < raw.count {
        let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
        if n < 0 {
            if errno == EINTR && interrupts < maxEINTRRetries { interrupts += 1; continue }
            throw ioError("write", path)
        }
        if n == 0 { throw ioError("write", path, EIO) }
        done += n
    }
}

/// True when the `length` bytes at `offset` lie entirely in a hole (read as zeros without
/// reading), per `lseek(SEEK_DATA)`. False when unsure (no SEEK_DATA support, errors).
func isHole(_ fd: Int32, offset: UInt64, length: Int) -> Bool {
    #if os(Linux)
    let next = lseek(fd, off_t(offset), 3 /* SEEK_DATA, not exported by Glibc's module */)
    if next < 0 { return errno == ENXIO }        // no data at or after offset
    return UInt64(next) >= offset + UInt64(length)
    #else
    return false
    #endif
}

struct FileStatus: Equatable {
    var size: UInt64
    var mtimeSeconds: Int64
    var mtimeNanoseconds: Int64
    var mode: mode_t
    /// Device, inode and status-change time: together with size and mtime, what tells that a
    /// file is still the one that was hashed (`SourceIdentity`).
    var identity: SourceIdentity
    var isRegular: Bool { mode & S_IFMT == S_IFREG }
    var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
    var isSymlink: Bool { mode & S_IFMT == S_IFLNK }

    init(_ s: stat) {
        size = UInt64(max(0, s.st_size))
        #if os(Linux)
        mtimeSeconds = Int64(s.st_mtim.tv_sec)
        mtimeNanoseconds = Int64(s.st_mtim.tv_nsec)
        #else
        mtimeSeconds = Int64(s.st_mtimespec.tv_sec)
        mtimeNanoseconds = Int64(s.st_mtimespec.tv_nsec)
        #endif
        mode = s.st_mode
        #if os(Linux)
        identity = SourceIdentity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino),
                                  ctimeSeconds: Int64(s.st_ctim.tv_sec), ctimeNanoseconds: Int64(s.st_ctim.tv_nsec))
        #else
        identity = SourceIdentity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino),
                                  ctimeSeconds: Int64(s.st_ctimespec.tv_sec), ctimeNanoseconds: Int64(s.st_ctimespec.tv_nsec))
        #endif
    }
}

func fileStatus(_ fd: Int32, path: String) throws(FileError) -> FileStatus {
    var s = stat()
    guard fstat(fd, &s) == 0 else { throw ioError("stat", path) }
    return FileStatus(s)
}

/// lstat-like status of `name` in `dir` (does not follow a final symlink); nil if it does not exist.
func statAt(_ dir: Int32, _ name: String, path: String) throws(FileError) -> FileStatus? {
    var s = stat()
    guard fstatat(dir, name, &s, AT_SYMLINK_NOFOLLOW) == 0 else {
        if errno == ENOENT { return nil }
        throw ioError("stat", path)
    }
    return FileStatus(s)
}

/// Opens the folder `components` below `base`, one component at a time with
/// O_NOFOLLOW | O_DIRECTORY, creating missing ones with `mkdirat` (mode 0o755 before umask)
/// when `create`. Returns nil when a component is missing and `create` is false.
/// - Throws: `FileError.unsafeTarget` when a component is a symlink or not a folder.
func openFolder(_ base: Descriptor, _ components: ArraySlice<String>, create: Bool, shownAs: String) throws(FileError) -> Descriptor? {
    var current = base
    for c in components {
        if create {
            if mkdirat(current.raw, c, 0o755) != 0 && errno != EEXIST { throw ioError("mkdir", shownAs) }
        }
        let fd = openAt(current.raw, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        if fd < 0 {
            switch errno {
            case ENOENT where !create: return nil
            case ELOOP, ENOTDIR: throw .unsafeTarget(SafePath.displaySafe(shownAs))
            default: throw ioError("open", shownAs)
            }
        }
        current = Descriptor(fd)
    }
    return current
}

/// renameat2(2) with RENAME_NOREPLACE, looked up at run time (Swift's Glibc module does not
/// export it). Nil when the C library lacks it.
private typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
private let renameat2Function: Renameat2? = {
    #if os(Linux)
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }  // RTLD_DEFAULT
    return unsafeBitCast(symbol, to: Renameat2.self)
    #else
    return nil
    #endif
}()

/// Moves `from` (in `fromDir`) to `to` (in `toDir`) without ever replacing an existing `to`.
/// First renameat2(RENAME_NOREPLACE) — atomic; where the kernel or file system refuses it
/// (ENOSYS, EINVAL), linkat + unlinkat — also atomic for the check, since link(2) fails with
/// EEXIST, but leaves `from` behind if the unlink fails.
/// - Throws: `FileError.alreadyExists` when `to` exists; `.io` otherwise.
func renameNoReplace(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, shownAs: String) throws(FileError) {
    if let rename2 = renameat2Function {
        let r = retryingEINTR { rename2(fromDir, from, toDir, to, 1 /* RENAME_NOREPLACE */) }
        if r == 0 { return }
        if errno == EEXIST { throw .alreadyExists(SafePath.displaySafe(shownAs)) }
        if errno != ENOSYS && errno != EINVAL { throw ioError("rename", shownAs) }
    }
    guard linkat(fromDir, from, toDir, to, 0) == 0 else {
        if errno == EEXIST { throw .alreadyExists(SafePath.displaySafe(shownAs)) }
        throw ioError("link", shownAs)
    }
    guard unlinkat(fromDir, from, 0) == 0 else { throw ioError("unlink", from) }
}

func hexEncode(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
