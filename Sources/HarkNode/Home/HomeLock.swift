import HarkControl

#if canImport(Glibc)
import Glibc
#endif

/// The home's exclusive lock (`daemon.lock`, flock(2)): one node per home at a time. The file
/// names its holder in one line, `PID ROLE\n` (ROLE `daemon` or `send`, under 64 bytes), written
/// after the lock is taken, so a process that finds the lock held can say what holds it.
///
/// The lock is held until `release()` (or the process ends: the kernel drops it with the
/// descriptor). Not thread-safe: one owner (the node's actor).
final class HomeLock {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the lock at `path` without waiting and writes `PID ROLE` into it.
    /// - Returns: the lock, or nil when another process holds it.
    /// - Throws: `NodeError.bindFailed` when the file cannot be opened.
    static func tryAcquire(path: String, role: NodeRole) throws -> HomeLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeError.bindFailed(what: path, why: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        let line = Array("\(getpid()) \(role.rawValue)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return HomeLock(fd: fd)
    }

    /// What the lock file at `path` says about its holder (`HomeLocation.lockHolder(path:)`).
    static func holder(path: String) -> HomeLockHolder? { HomeLocation.lockHolder(path: path) }

    /// Empties the file (it names no holder any more) and drops the lock. Idempotent.
    func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension NodeHome {
    /// What the home's lock file names as its holder (nil: none named). Meaningful while the
    /// control socket answers: a node that ended normally empties the file; one that was killed
    /// leaves its line behind.
    public var lockHolder: HomeLockHolder? { HomeLock.holder(path: lockPath) }
}
