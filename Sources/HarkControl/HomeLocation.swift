#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a node's home and its control socket are, from the environment alone: what every
/// client needs before it can talk to a daemon. `NodeHome` (HarkNode) and the small `hark`
/// client both use it, so the two never disagree. Pure functions of their inputs and the file
/// system; thread-safe.
public enum HomeLocation {
    /// The home to use: `explicit` (`--home`), else `$HARK_HOME`, else `$XDG_DATA_HOME/hark`,
    /// else `$HOME/.local/share/hark` (`/root` when `$HOME` is unset). Relative paths are made
    /// absolute against the current directory.
    public static func resolve(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return absolute(explicit) }
        if let env = environment["HARK_HOME"], !env.isEmpty { return absolute(env) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return absolute(xdg) + "/hark" }
        let home = environment["HOME"] ?? "/root"
        return home + "/.local/share/hark"
    }

    /// The environment variables `resolve` reads, from the process environment (getenv: no copy
    /// of the whole environment).
    public static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for name in ["HARK_HOME", "XDG_DATA_HOME", "HOME"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return environment
    }

    /// `control.sock` in `home`, or, when that is a symbolic link (the daemon put the socket
    /// under `$XDG_RUNTIME_DIR`), the link's target, so the path handed to connect(2) stays
    /// short. Not cached: it changes when a daemon starts.
    public static func socketPath(home: String) -> String {
        let link = home + "/control.sock"
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(link, &buf, buf.count - 1)
        guard n > 0 else { return link }
        let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.hasPrefix("/") ? target : link
    }

    /// Whether `home` holds an identity (`identity.key` exists).
    public static func isInitialized(home: String) -> Bool { access(home + "/identity.key", F_OK) == 0 }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let end = buf.firstIndex(of: 0) ?? buf.count
        return String(decoding: buf[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
    }
}
