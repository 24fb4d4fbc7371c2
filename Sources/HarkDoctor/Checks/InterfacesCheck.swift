
/// The `interfaces` check: some interface is up, not loopback, multicast and addressed, and
/// avahi-daemon would use it (its MULTICAST flag, point-to-point, allow/deny lists).
enum InterfacesCheck {
    /// The check for the interfaces and avahi's interface settings. Pure.
    static func judge(_ all: [LocalInterface], avahiConfig: AvahiConfig) -> DoctorCheck {
        var usable: [String] = []
        var details: [String] = []
        var skipped: [String] = []
        for i in all where !i.isLoopback {
            let addrs = i.addressTexts.joined(separator: ", ")
            if !i.isUp { details.append("\(i.name): down"); continue }
            if i.addresses.isEmpty { details.append("\(i.name): up, no address"); continue }
            if !i.isMulticast {
                skipped.append("\(i.name) (\(addrs)): no MULTICAST flag, avahi skips it; fix: sudo ip link set dev \(i.name) multicast on")
            } else if i.isPointToPoint && !avahiConfig.allowPointToPoint {
                skipped.append("\(i.name) (\(addrs)): point-to-point, avahi skips it (allow-point-to-point=yes in \(AvahiConfig.path) to use it)")
            } else if let why = avahiConfig.excludes(i.name) {
                skipped.append("\(i.name) (\(addrs)): \(why) in \(AvahiConfig.path), so avahi skips it")
            } else {
                usable.append(i.name)
                details.append("\(i.name): up, multicast, \(addrs)")
            }
        }
        details += skipped.map { "skipped: \($0)" }
        if usable.isEmpty {
            let lo = all.contains { $0.isLoopback && $0.isUp } ? " (only loopback: nodes on this host can still find each other)" : ""
            return DoctorCheck(name: "interfaces", status: .fail,
                               finding: "no interface can carry mDNS to other hosts: none is up, not loopback, multicast and addressed\(lo)",
                               fix: "bring up a LAN interface with an address (sudo ip link set dev IFACE up multicast on), "
                                   + "or connect directly: hark daemon --peer HOST:PORT",
                               details: details)
        }
        if !skipped.isEmpty {
            return DoctorCheck(name: "interfaces", status: .warn,
                               finding: "mDNS can use \(usable.joined(separator: ", ")); avahi skips \(skipped.count) other addressed interface\(skipped.count == 1 ? "" : "s")",
                               fix: "if peers are on a skipped interface, apply the fix given for it",
                               details: details)
        }
        return DoctorCheck(name: "interfaces", status: .ok, finding: "mDNS can use \(usable.joined(separator: ", "))", details: details)
    }
}
