import HarkDiscovery

#if canImport(Glibc)
import Glibc
#endif

/// An interface from getifaddrs(3), with its flags and IP addresses.
///
/// Thread-safety: a value type; ``all()`` reads the kernel's list and keeps nothing.
struct LocalInterface {
    struct Address { var ip: String; var isIPv6: Bool; var scopeID: UInt32; var isLinkLocal: Bool }
    var name: String
    var flags: UInt32
    var addresses: [Address] = []

    var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
    var isLoopback: Bool { flags & UInt32(IFF_LOOPBACK) != 0 }
    var isMulticast: Bool { flags & UInt32(IFF_MULTICAST) != 0 }
    var isPointToPoint: Bool { flags & UInt32(IFF_POINTOPOINT) != 0 }
    var addressTexts: [String] { addresses.map { $0.isLinkLocal ? "\($0.ip)%\(name)" : $0.ip } }

    /// Every interface, in the kernel's order. Reads only.
    static func all() -> [LocalInterface] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var all: [LocalInterface] = []
        var indexByName: [String: Int] = [:]
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let ifa = p {
            defer { p = ifa.pointee.ifa_next }
            let name = String(cString: ifa.pointee.ifa_name)
            let k: Int
            if let known = indexByName[name] {
                k = known
            } else {
                k = all.count
                indexByName[name] = k
                all.append(LocalInterface(name: name, flags: ifa.pointee.ifa_flags))
            }
            all[k].flags |= ifa.pointee.ifa_flags
            guard let sa = ifa.pointee.ifa_addr else { continue }
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                var sin = UnsafeRawPointer(sa).load(as: sockaddr_in.self)
                inet_ntop(AF_INET, &sin.sin_addr, &buf, socklen_t(buf.count))
                all[k].addresses.append(Address(ip: cText(buf), isIPv6: false, scopeID: 0, isLinkLocal: false))
            case AF_INET6:
                var sin6 = UnsafeRawPointer(sa).load(as: sockaddr_in6.self)
                inet_ntop(AF_INET6, &sin6.sin6_addr, &buf, socklen_t(buf.count))
                let ip = cText(buf)
                let ll = HostPort.isLinkLocalV6(ip)
                all[k].addresses.append(Address(ip: ip, isIPv6: true, scopeID: ll ? sin6.sin6_scope_id : 0, isLinkLocal: ll))
            default:
                break
            }
        }
        return all
    }
}
