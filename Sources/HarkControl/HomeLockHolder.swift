#if canImport(Glibc)
import Glibc
#endif

/// The holder a home's lock file (`daemon.lock`) names: one line `PID ROLE\n` (ROLE `daemon` or
/// `send`, under 64 bytes), written by the node that holds the flock(2). Read by both executables
/// (the small client hands a send to `hark-node` when another send's short-lived node serves the home).
extension HomeLocation {
    /// The lock file of `home`: `<home>/daemon.lock`.
    public static func lockPath(home: String) -> String { home + "/daemon.lock" }

    /// What the lock file at `path` says about its holder; nil when it names none (empty, or
    /// written by an older hark). Reads at most 64 bytes.
    public static func lockHolder(path: String) -> HomeLockHolder? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let text = String(decoding: bytes[..<n], as: UTF8.self)
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let first = fields.first, let pid = Int32(first), pid > 0 else { return nil }
        return HomeLockHolder(pid: pid, role: fields.count > 1 ? NodeRole(rawValue: String(fields[1])) : nil)
    }
}

/// What runs a node on a home (written into the home's lock file).
public enum NodeRole: String, Sendable {
    /// `hark daemon`: runs until stopped.
    case daemon
    /// The short-lived node of a `hark send` without a daemon: ends with the command.
    case send
}

/// Who holds a home's lock, as its lock file says.
public struct HomeLockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    /// nil: the holder wrote no role (an older hark).
    public var role: NodeRole?

    public init(pid: Int32, role: NodeRole?) {
        self.pid = pid
        self.role = role
    }

    /// "a hark daemon (pid 12)", "a `hark send` without a daemon (pid 12)", or "another hark
    /// process (pid 12)" for a holder that wrote no role.
    public var description: String {
        switch role {
        case .daemon: return "a hark daemon (pid \(pid))"
        case .send: return "a `hark send` without a daemon (pid \(pid))"
        case nil: return "another hark process (pid \(pid))"
        }
    }
}

