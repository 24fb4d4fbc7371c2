import Foundation

/// Reads the text of `nft list ruleset` (nft(8)) into the chains that matter for inbound
/// packets: base chains on the input, prerouting or ingress hook of the ip, ip6, inet and
/// netdev families, and other chains that hold a rule this reader understands. Sets, maps and
/// flowtables are skipped. Pure; thread-safe.
enum NftRuleset {
    /// The chains of a whole ruleset, in the order listed. Never throws: lines not understood
    /// make a rule "not general" (``FirewallChain/Rule/otherConditions``) or are skipped.
    static func parse(_ text: String) -> [FirewallChain] {
        var chains: [FirewallChain] = []
        var family = "", table = ""
        var current: FirewallChain?
        var skipDepth = 0   // inside a set/map/other block
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if skipDepth > 0 {
                skipDepth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
                continue
            }
            let t = RuleText.tokens(line)
            if t.first == "table", t.count >= 3 { family = t[1]; table = t[2]; continue }
            if t.first == "chain", t.count >= 2 {
                current = FirewallChain(source: "nft table \(family) \(table)", name: t[1], isInputHook: false,
                                        policyDrop: false, family: family, table: table, isNft: true)
                continue
            }
            if line == "}" {
                if let c = current { chains.append(c); current = nil }
                continue
            }
            guard current != nil else {
                if line.hasSuffix("{") { skipDepth = 1 }   // set, map, flowtable, ct helper…
                continue
            }
            if t.first == "type" {
                if let i = t.firstIndex(of: "hook"), i + 1 < t.count {
                    let hook = t[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: ";"))
                    current?.isInputHook = ["input", "prerouting", "ingress"].contains(hook) && family != "bridge" && family != "arp"
                }
                if let i = t.firstIndex(of: "policy"), i + 1 < t.count {
                    current?.policyDrop = t[i + 1].hasPrefix("drop")
                }
                continue
            }
            if t.first == "policy" { current?.policyDrop = t.count > 1 && t[1].hasPrefix("drop"); continue }
            if let rule = parseRule(t, text: line) { current?.rules.append(rule) }
        }
        return chains.filter { $0.isInputHook || !$0.rules.isEmpty }
            .filter { c in !(c.family == "bridge" || c.family == "arp") }
    }

    /// One rule line, already split by ``RuleText/tokens(_:)``; nil for rules that only move
    /// control (`jump`, `goto`, `return`, `continue`, `queue`), whose targets are not followed.
    static func parseRule(_ t: [String], text: String) -> FirewallChain.Rule? {
        var r = FirewallChain.Rule(text: text)
        var i = 0
        while i < t.count {
            let w = t[i]
            switch w {
            case "accept": r.verdict = .accept; i += 1
            case "drop": r.verdict = .drop; i += 1
            case "reject": r.verdict = .drop; i = t.count   // "reject with …"
            case "counter":
                i += 1
                while i + 1 < t.count, t[i] == "packets" || t[i] == "bytes" { i += 2 }
            case "log", "comment":
                i += 1
                while i < t.count, ["prefix", "level", "flags", "group"].contains(t[i]) || t[i].hasPrefix("\"") { i += 1 }
                if w == "comment", i < t.count, t[i].hasPrefix("\"") { i += 1 }
            case "meta" where i + 2 < t.count && t[i + 1] == "l4proto", "ip" where i + 2 < t.count && t[i + 1] == "protocol",
                 "ip6" where i + 2 < t.count && t[i + 1] == "nexthdr":
                let p = t[i + 2]
                if p == "tcp" || p == "udp" {
                    r.protocols = (r.protocols ?? [p]).intersection([p])
                } else { r.otherConditions = true }
                i += 3
            case "iifname", "iif":
                if i + 1 < t.count {
                    let v = t[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if v == "lo" { r.loopbackOnly = true }
                }
                i += 2
            case "tcp", "udp", "th":
                guard i + 2 < t.count, t[i + 1] == "dport" else { r.otherConditions = true; i += 1; continue }
                let protos: Set<String> = w == "th" ? ["tcp", "udp"] : [w]
                r.protocols = r.protocols.map { $0.intersection(protos) } ?? protos
                var v = t[i + 2]
                i += 3
                if v == "!=" , i < t.count { r.portsNegated = true; v = t[i]; i += 1 }
                if v.hasPrefix("@") { r.otherConditions = true; continue }   // a named set
                let inner = v.trimmingCharacters(in: CharacterSet(charactersIn: "{} "))
                if let ports = RuleText.parsePorts(inner) { r.ports = ports } else { r.otherConditions = true }
            case "continue", "return", "jump", "goto", "queue":
                return nil
            default:
                r.otherConditions = true
                i += 1
            }
        }
        return r
    }
}
