
/// The `firewall` check: no nft or iptables rule drops the daemon's TCP port or UDP 5353, and
/// no input chain drops them by its policy while nothing accepts them.
enum FirewallCheck {
    /// UDP port of mDNS (RFC 6762 §3).
    static let mdnsPort = 5353

    /// The check for what ``Firewall/inspect()`` read, for the daemon's TCP port (nil when
    /// unknown) and UDP 5353. Pure.
    static func judge(_ inspection: Firewall.Inspection, tcpPort: Int?, homeFlag: String) -> DoctorCheck {
        var targets: [(proto: String, port: Int, what: String)] = [("udp", Self.mdnsPort, "UDP 5353 (mDNS)")]
        if let p = tcpPort { targets.insert(("tcp", p, "TCP \(p) (the daemon's)"), at: 0) }
        let scope = targets.map(\.what).joined(separator: " and ") + (tcpPort == nil ? "; no daemon, so its TCP port is unknown" : "")
        var details = inspection.notes
        if inspection.chains.isEmpty {
            if inspection.denied {
                return DoctorCheck(name: "firewall", status: .skip,
                                   finding: "cannot inspect the firewall (not root); looked for drops of \(scope)",
                                   fix: "run sudo hark doctor\(homeFlag), or look yourself: sudo nft list ruleset",
                                   details: details)
            }
            if !inspection.readAny {
                return DoctorCheck(name: "firewall", status: .skip,
                                   finding: details.isEmpty ? "no nft or iptables to inspect" : "cannot read the firewall rules",
                                   details: details)
            }
        }
        var blocked: [String] = [], blockedWhat: [String] = []
        var policyOnly: [String] = []
        var fixes: [String] = []
        for t in targets {
            // a drop policy is fine when some chain (ufw's, say, jumped to) accepts the port
            let acceptedSomewhere = inspection.chains.contains {
                if case .accepted = $0.verdict(proto: t.proto, port: t.port) { return true } else { return false }
            }
            for chain in inspection.chains {
                switch chain.verdict(proto: t.proto, port: t.port) {
                case .dropped(let rule):
                    blocked.append("\(t.what) is dropped by \(chain.source) chain \(chain.name): \(rule)")
                    blockedWhat.append(t.what)
                    fixes.append(Firewall.acceptCommand(chain: chain, proto: t.proto, port: t.port))
                case .policyDrop where !acceptedSomewhere:
                    policyOnly.append("\(chain.source) chain \(chain.name) has policy drop and no rule accepts \(t.what)")
                    fixes.append(Firewall.acceptCommand(chain: chain, proto: t.proto, port: t.port))
                case .accepted, .noMatch, .policyDrop:
                    break
                }
            }
        }
        details = blocked + policyOnly + details
        let fix = fixes.isEmpty ? nil : "allow them: " + fixes.uniqued().joined(separator: "; ")
        if !blocked.isEmpty {
            return DoctorCheck(name: "firewall", status: .fail,
                               finding: "the firewall drops " + blockedWhat.uniqued().joined(separator: " and "), fix: fix, details: details)
        }
        if !policyOnly.isEmpty {
            return DoctorCheck(name: "firewall", status: .warn,
                               finding: "an input chain drops by default and no rule accepts \(scope)", fix: fix, details: details)
        }
        let what = inspection.sources.joined(separator: ", ")
        return DoctorCheck(name: "firewall", status: .ok,
                           finding: "no rule drops \(scope) (\(what): \(inspection.chains.count) chain\(inspection.chains.count == 1 ? "" : "s"))",
                           details: details)
    }
}
