import Dispatch
import HarkDiscovery

#if canImport(Glibc)
import Glibc
#endif

/// One address to try a TCP connect to: an IP literal (no name resolution, ever).
struct TCPTarget: Equatable {
    var ip: String
    var isIPv6: Bool
    var scopeID: UInt32
    var scopeName: String?
    var port: Int

    init(ip: String, isIPv6: Bool, scopeID: UInt32, scopeName: String?, port: Int) {
        self.ip = ip; self.isIPv6 = isIPv6; self.scopeID = scopeID; self.scopeName = scopeName; self.port = port
    }

    /// From `10.0.0.2`, `fe80::1%eth0` or `fe80::1%2`; nil for names.
    init?(host: String, port: Int) {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { self.init(ip: host, isIPv6: false, scopeID: 0, scopeName: nil, port: port); return }
        let parts = host.split(separator: "%", maxSplits: 1).map(String.init)
        var v6 = in6_addr()
        guard let ip = parts.first, inet_pton(AF_INET6, ip, &v6) == 1 else { return nil }
        var scope: UInt32 = 0
        var name: String?
        if parts.count == 2 {
            if let n = UInt32(parts[1]) { scope = n } else { scope = if_nametoindex(parts[1]); name = parts[1] }
        }
        self.init(ip: ip, isIPv6: true, scopeID: scope, scopeName: name, port: port)
    }

    var isLinkLocal: Bool { isIPv6 && HostPort.isLinkLocalV6(ip) }

    var label: String {
        guard isIPv6 else { return "\(ip):\(port)" }
        let s = isLinkLocal ? "%" + (scopeName ?? String(scopeID)) : ""
        return "[\(ip)\(s)]:\(port)"
    }
}

/// How one TCP connect ended: accepted, refused (RST), no answer before the deadline, or
/// another error (its strerror text).
enum TCPOutcome: Equatable { case connected, refused, timedOut, failed(String) }

/// Connects to each target (with a deadline in ms for all) and returns one outcome per target,
/// in order: ``TCPProbe/run(_:timeoutMs:)``, or a stand-in in tests of the checks.
typealias TCPProber = ([TCPTarget], Int) -> [TCPOutcome]

/// Non-blocking TCP connects to many targets at once, one shared deadline; each socket is
/// closed right after its connect completes (nothing is sent).
///
/// Thread-safety: stateless; each call owns its sockets.
enum TCPProbe {
    /// One outcome per target, in order; blocks at most about `timeoutMs` milliseconds.
    static func run(_ targets: [TCPTarget], timeoutMs: Int) -> [TCPOutcome] {
        var outcomes = [TCPOutcome?](repeating: nil, count: targets.count)
        var fds = [Int32](repeating: -1, count: targets.count)
        defer { for fd in fds where fd >= 0 { close(fd) } }
        for (i, t) in targets.enumerated() {
            let fd = socket(t.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { outcomes[i] = .failed("socket: \(errnoText())"); continue }
            fds[i] = fd
            var rc: Int32
            if t.isIPv6 {
                var sa = sockaddr_in6()
                sa.sin6_family = sa_family_t(AF_INET6)
                sa.sin6_port = in_port_t(UInt16(clamping: t.port).bigEndian)
                sa.sin6_scope_id = t.scopeID
                _ = inet_pton(AF_INET6, t.ip, &sa.sin6_addr)
                rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            } else {
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = in_port_t(UInt16(clamping: t.port).bigEndian)
                _ = inet_pton(AF_INET, t.ip, &sa.sin_addr)
                rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            if rc == 0 { outcomes[i] = .connected } else if errno != EINPROGRESS { outcomes[i] = outcome(errno: errno) }
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        while true {
            let pending = outcomes.indices.filter { outcomes[$0] == nil }
            if pending.isEmpty { break }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { break }
            var pfds = pending.map { pollfd(fd: fds[$0], events: Int16(POLLOUT), revents: 0) }
            let n = poll(&pfds, nfds_t(pfds.count), Int32(max(1, (deadline - now) / 1_000_000)))
            if n < 0 && errno != EINTR { break }
            for (j, i) in pending.enumerated() where pfds[j].revents != 0 {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len)
                outcomes[i] = err == 0 ? .connected : outcome(errno: err)
            }
        }
        return outcomes.map { $0 ?? .timedOut }
    }

    private static func outcome(errno e: Int32) -> TCPOutcome {
        e == ECONNREFUSED ? .refused : (e == ETIMEDOUT ? .timedOut : .failed(String(cString: strerror(e))))
    }
}
