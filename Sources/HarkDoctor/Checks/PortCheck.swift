
/// The `port` check: the daemon's TCP port answers on this host's own addresses (the
/// connects go through lo, so a firewall dropping the port on input shows as a timeout).
enum PortCheck {
    /// The check: connects to `tcpPort` (nil: no daemon, skipped) on at most 16 addresses of
    /// the up, non-loopback interfaces through `probe`, 1500 ms for all. Blocks that long at most.
    static func run(_ tcpPort: Int?, interfaces: [LocalInterface], probe: TCPProber = TCPProbe.run) -> DoctorCheck {
        guard let port = tcpPort else {
            return DoctorCheck(name: "port", status: .skip, finding: "no daemon, so no TCP port to try")
        }
        var targets: [TCPTarget] = []
        for i in interfaces where i.isUp && !i.isLoopback {
            for a in i.addresses { targets.append(TCPTarget(ip: a.ip, isIPv6: a.isIPv6, scopeID: a.scopeID, scopeName: i.name, port: port)) }
        }
        targets = Array(targets.prefix(16))
        guard !targets.isEmpty else {
            return DoctorCheck(name: "port", status: .skip, finding: "this host has no non-loopback address to try TCP \(port) on")
        }
        let outcomes = probe(targets, 1500)
        var open: [String] = [], refused: [String] = [], dropped: [String] = [], other: [String] = []
        for (t, o) in zip(targets, outcomes) {
            switch o {
            case .connected: open.append(t.label)
            case .refused: refused.append(t.label)
            case .timedOut: dropped.append(t.label)
            case .failed(let why): other.append("\(t.label): \(why)")
            }
        }
        var details: [String] = []
        if !open.isEmpty { details.append("accepts on \(open.joined(separator: ", "))") }
        if !refused.isEmpty { details.append("refused on \(refused.joined(separator: ", "))") }
        if !dropped.isEmpty { details.append("no answer within 1.5 s on \(dropped.joined(separator: ", "))") }
        details += other
        if !dropped.isEmpty {
            return DoctorCheck(name: "port", status: .fail,
                               finding: "TCP \(port) does not answer on \(dropped.joined(separator: ", ")): a firewall drops it",
                               fix: "allow TCP port \(port) in the firewall (the firewall check names the rule), e.g. "
                                   + "sudo iptables -I INPUT -p tcp --dport \(port) -j ACCEPT",
                               details: details)
        }
        if !refused.isEmpty || !other.isEmpty {
            return DoctorCheck(name: "port", status: .warn,
                               finding: "TCP \(port) is refused on \(refused.joined(separator: ", "))\(other.isEmpty ? "" : " (and errors)"): "
                                   + "the daemon listens on another address, or a firewall rejects it",
                               fix: "listen on all addresses (hark daemon without --listen, or --listen ::), and check REJECT rules for TCP \(port)",
                               details: details)
        }
        return DoctorCheck(name: "port", status: .ok, finding: "TCP \(port) accepts connections on \(open.count) local address\(open.count == 1 ? "" : "es")",
                           details: details)
    }
}
