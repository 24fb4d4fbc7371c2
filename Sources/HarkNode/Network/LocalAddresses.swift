#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The IP addresses this host holds on interfaces that are up and running, and the channels
/// whose own end lost its address (PROTOCOL.md §3.2, "Probe"): a channel whose local address
/// was removed, or whose interface went down, cannot carry anything any more, so it is closed at
/// once and the peer redialled, rather than waiting for the 15 s idle timeout.
///
/// Thread-safe (no state).
enum LocalAddresses {
    /// How often the node looks, ms.
    static let pollIntervalMs: Int64 = 250

    /// An address in the form compared here: no IPv6 zone ("%lan0"), IPv4-mapped IPv6 as IPv4,
    /// lower case.
    static func normalized(_ ip: String) -> String {
        var s = ip.lowercased()
        if let zone = s.firstIndex(of: "%") { s = String(s[..<zone]) }
        if s.hasPrefix("::ffff:"), s.contains(".") { s = String(s.dropFirst(7)) }
        return s
    }

    /// The channels (by ID) whose local address (normalized) is not in `held`. Channels without
    /// a known local address are never listed. Pure.
    static func stranded(channels: [(id: UInt64, localIP: String?)], held: Set<String>) -> [UInt64] {
        channels.compactMap { c in
            guard let ip = c.localIP.map(normalized) else { return nil }
            return held.contains(ip) ? nil : c.id
        }
    }

    /// The addresses on interfaces with IFF_UP and IFF_RUNNING (getifaddrs), normalized; nil when
    /// getifaddrs fails (then nothing is judged).
    static func held() -> Set<String>? {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return nil }
        defer { freeifaddrs(head) }
        var out = Set<String>()
        var node: UnsafeMutablePointer<ifaddrs>? = first
        var n = 0
        while let p = node, n < 10_000 {   // bounded: a host has far fewer addresses
            n += 1
            node = p.pointee.ifa_next
            let flags = Int32(bitPattern: p.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, flags & Int32(IFF_RUNNING) != 0, let sa = p.pointee.ifa_addr else { continue }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
                }
            case AF_INET6:
                sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var a = sin6.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
                }
            default: continue
            }
            let end = buffer.firstIndex(of: 0) ?? buffer.count
            out.insert(normalized(String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
        return out
    }
}
