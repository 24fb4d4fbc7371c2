import HarkControl


/// The `discovery` check: the daemon's own view of DNS-SD (`status.discovery`).
enum DiscoveryCheck {
    /// The check for the daemon's `status` (nil: no daemon), knowing whether avahi-daemon
    /// answered this process. Pure.
    static func judge(_ status: StatusResult?, avahiOK: Bool) -> DoctorCheck {
        guard let s = status else {
            return DoctorCheck(name: "discovery", status: .skip, finding: "no daemon to ask")
        }
        let d = s.discovery
        switch d.state {
        case "active":
            let n = d.instanceName.map { " as \"\($0)\"" } ?? ""
            return DoctorCheck(name: "discovery", status: .ok, finding: "the daemon publishes _hark._tcp\(n) and browses for peers")
        case "disabled":
            return DoctorCheck(name: "discovery", status: .warn,
                               finding: "the daemon runs with --no-discovery: it only finds the peers given with --peer",
                               fix: "restart it without --no-discovery, or give each peer with --peer HOST:PORT")
        case "unavailable":
            let fix = avahiOK
                ? "avahi-daemon answers here but not to the daemon: run the daemon with the same DBUS_SYSTEM_BUS_ADDRESS "
                    + "(it retries every 2 s by itself), or restart it"
                : "fix avahi-daemon (see avahi); the daemon reconnects by itself"
            return DoctorCheck(name: "discovery", status: .fail,
                               finding: "the daemon cannot use avahi: \(d.reason ?? "no reason given")", fix: fix)
        default:
            return DoctorCheck(name: "discovery", status: .warn, finding: "discovery is \(d.state)",
                               fix: "run hark doctor again in a few seconds")
        }
    }
}
