import HarkControl
import HarkDiscovery


/// The `link-local` check: no `--peer` or peer address is an fe80:: address without a
/// `%scope` (ambiguous without the interface; the daemon cannot dial it).
enum LinkLocalCheck {
    /// The check for the daemon's `status` and `peers` (nil: no daemon). Pure.
    static func judge(status: StatusResult?, peers: [PeerView]?, interfaces: [LocalInterface]) -> DoctorCheck {
        guard status != nil else {
            return DoctorCheck(name: "link-local", status: .skip, finding: "no daemon, so no peer addresses to check")
        }
        let linkLocalIfaces = interfaces.filter { i in i.isUp && !i.isLoopback && i.addresses.contains { $0.isIPv6 && $0.isLinkLocal } }.map(\.name)
        let scope = linkLocalIfaces.count == 1 ? linkLocalIfaces[0] : "IFACE"
        var bad: [String] = [], fixes: [String] = []
        var checked = 0
        var staticBad = false
        for spec in status?.staticPeers ?? [] {
            checked += 1
            guard let hp = HostPort(spec), hp.isUnscopedLinkLocal else { continue }
            bad.append("--peer \(spec) is link-local without a scope: the daemon cannot dial it")
            fixes.append("--peer '[\(hp.host)%\(scope)]:\(hp.port.map(String.init) ?? "PORT")'")
            staticBad = true
        }
        for p in peers ?? [] {
            guard let a = p.address else { continue }
            checked += 1
            guard let hp = HostPort(a), hp.isUnscopedLinkLocal else { continue }
            // inbound channels' addresses are shown without their scope and are never dialled
            if p.source == "inbound" || p.direction == "inbound" { continue }
            bad.append("peer \(p.displayName) (\(p.fingerprint)) has the link-local address \(a) without a scope")
            fixes.append("[\(hp.host)%\(scope)]:\(hp.port.map(String.init) ?? "PORT")")
        }
        if bad.isEmpty {
            return DoctorCheck(name: "link-local", status: .ok,
                               finding: "no fe80:: address without a %scope among \(checked) peer address\(checked == 1 ? "" : "es")")
        }
        let ifaces = scope == "IFACE" && !linkLocalIfaces.isEmpty ? " (IFACE: one of \(linkLocalIfaces.joined(separator: ", ")))" : ""
        return DoctorCheck(name: "link-local", status: staticBad ? .fail : .warn,
                           finding: "\(bad.count) IPv6 link-local address\(bad.count == 1 ? "" : "es") without a scope: fe80:: is ambiguous without the interface",
                           fix: "give the address a scope, e.g. \(fixes.joined(separator: ", "))\(ifaces)", details: bad)
    }
}
