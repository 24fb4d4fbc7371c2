import HarkDiscovery


/// The `avahi` check: avahi-daemon answers on the D-Bus system bus (``AvahiProbe``).
enum AvahiCheck {
    /// The check for a probe's result, given the daemon's discovery state (`"disabled"` under
    /// `--no-discovery`, when an absent avahi breaks nothing: a warning, not a failure). Pure.
    static func judge(_ r: AvahiProbe.Result, discoveryState: String?) -> DoctorCheck {
        var check = judge(r)
        if check.status == .fail, discoveryState == "disabled" {
            check.status = .warn
            check.finding += " (the daemon runs with --no-discovery, so it does not need it)"
        }
        return check
    }

    private static func judge(_ r: AvahiProbe.Result) -> DoctorCheck {
        let noAvahi = "; until then, name peers yourself: hark daemon --peer HOST:PORT"
        switch r.state {
        case .running:
            let v = r.version.map { " (\($0))" } ?? ""
            let h = r.hostName.map { " as \($0)" } ?? ""
            return DoctorCheck(name: "avahi", status: .ok, finding: "avahi-daemon\(v) answers on D-Bus\(h)")
        case .registering:
            return DoctorCheck(name: "avahi", status: .warn, finding: "avahi-daemon is still registering its host name",
                               fix: "wait a few seconds; if it stays so, see journalctl -u avahi-daemon")
        case .collision:
            return DoctorCheck(name: "avahi", status: .warn, finding: "avahi-daemon's host name collides with another host's on the LAN",
                               fix: "give this host a unique name (sudo hostnamectl set-hostname NAME) and sudo systemctl restart avahi-daemon")
        case .notRunning:
            return DoctorCheck(name: "avahi", status: .fail,
                               finding: "avahi-daemon is not running (the D-Bus system bus at \(r.busAddress) answers, avahi is not on it)",
                               fix: "sudo systemctl start avahi-daemon (Debian: sudo apt-get install avahi-daemon)\(noAvahi)")
        case .noBus:
            return DoctorCheck(name: "avahi", status: .fail,
                               finding: "avahi-daemon is unreachable: no D-Bus system bus at \(r.busAddress) (\(r.error ?? "?"))",
                               fix: "sudo systemctl start dbus avahi-daemon; in a container, mount the host's "
                                   + "/run/dbus/system_bus_socket or set DBUS_SYSTEM_BUS_ADDRESS\(noAvahi)")
        case .failed:
            return DoctorCheck(name: "avahi", status: .fail, finding: "cannot talk to avahi-daemon: \(r.error ?? "?")",
                               fix: "sudo systemctl restart avahi-daemon; see journalctl -u avahi-daemon\(noAvahi)")
        case .timedOut:
            return DoctorCheck(name: "avahi", status: .fail, finding: "D-Bus or avahi-daemon did not answer within 3 s",
                               fix: "sudo systemctl restart dbus avahi-daemon\(noAvahi)")
        }
    }
}
