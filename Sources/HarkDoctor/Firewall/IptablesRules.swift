import Foundation

/// Reads the text of `iptables -S` / `ip6tables -S` (the filter table as `-P`, `-N` and `-A`
/// lines, iptables(8)) into chains: INPUT as the input hook, user chains with a rule this reader
/// understands; OUTPUT, FORWARD and POSTROUTING are ignored. Pure; thread-safe.
enum IptablesRules {
    /// The chains of one tool's listing; `source` (`iptables` or `ip6tables`) names them in
    /// findings. Rules without an ACCEPT, DROP or REJECT target are dropped.
    static func parse(_ text: String, source: String) -> [FirewallChain] {
        var chains: [String: FirewallChain] = [:]
        var order: [String] = []
        func chain(_ name: String) -> String {
            if chains[name] == nil {
                order.append(name)
                chains[name] = FirewallChain(source: source, name: name, isInputHook: name == "INPUT", policyDrop: false,
                                             family: "", table: "filter", isNft: false)
            }
            return name
        }
        for raw in text.split(separator: "\n") {
            let t = RuleText.tokens(String(raw)).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard t.count >= 2 else { continue }
            switch t[0] {
            case "-P":
                let c = chain(t[1])
                chains[c]?.policyDrop = t.count > 2 && t[2] == "DROP"
            case "-N":
                _ = chain(t[1])
            case "-A":
                let c = chain(t[1])
                if ["OUTPUT", "FORWARD", "POSTROUTING"].contains(c) { continue }
                var r = FirewallChain.Rule(text: String(raw))
                var i = 2
                var negate = false
                while i < t.count {
                    let w = t[i]
                    let v = i + 1 < t.count ? t[i + 1] : ""
                    switch w {
                    case "!": negate = true; i += 1; continue
                    case "-p", "--protocol":
                        if negate { r.otherConditions = true } else { r.protocols = [v.lowercased()] }
                        i += 2
                    case "--dport", "--destination-port", "--dports", "--destination-ports":
                        if let p = RuleText.parsePorts(v) { r.ports = p; r.portsNegated = negate } else { r.otherConditions = true }
                        i += 2
                    case "-i", "--in-interface":
                        if v == "lo" && !negate { r.loopbackOnly = true }
                        i += 2
                    case "-m", "--match":
                        if !["tcp", "udp", "multiport", "comment"].contains(v) { r.otherConditions = true }
                        i += 2
                    case "--comment":
                        i += 2
                    case "-j", "--jump":
                        switch v {
                        case "ACCEPT": r.verdict = .accept
                        case "DROP", "REJECT": r.verdict = .drop
                        default: r.verdict = nil
                        }
                        i = t.count
                    case "-c": i += 3
                    default:
                        r.otherConditions = true
                        i += 1
                    }
                    negate = false
                }
                if r.verdict != nil { chains[c]?.rules.append(r) }
            default:
                continue
            }
        }
        return order.compactMap { chains[$0] }.filter { $0.isInputHook || !$0.rules.isEmpty }
    }
}
