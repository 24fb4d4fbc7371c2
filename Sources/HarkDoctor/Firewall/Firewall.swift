import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads this host's firewall rules, read-only, through `nft list ruleset` and, where nft is
/// absent or iptables uses its legacy backend, `iptables -S` and `ip6tables -S` (each with a
/// 3000 ms deadline).
enum Firewall {
    /// What could be read: the chains, which listings they came from, and why some could not.
    struct Inspection {
        var chains: [FirewallChain] = []
        var sources: [String] = []
        var notes: [String] = []
        var denied = false
        var readAny = false
    }

    /// Runs the tools; blocks up to 3000 ms per tool. Needs root to see anything (`denied`
    /// otherwise).
    static func inspect() -> Inspection {
        var out = Inspection()
        var nftDone = false
        if let nft = Tool.find("nft") {
            let r = Tool.run(nft, ["list", "ruleset"], timeoutMs: 3000)
            if r.status == 0 {
                out.chains += NftRuleset.parse(r.stdout)
                out.sources.append("nft ruleset")
                out.readAny = true
                nftDone = true
            } else if r.stderr.contains("Operation not permitted") || r.stderr.contains("ermission denied") || geteuid() != 0 {
                out.denied = true
            } else {
                out.notes.append("nft list ruleset failed: \(r.stderr.split(separator: "\n").first ?? "exit \(r.status.map(String.init) ?? "timeout")")")
            }
        }
        // iptables-nft rules are in the nft ruleset already; read iptables only when nft is
        // absent or iptables uses the legacy backend.
        for tool in ["iptables", "ip6tables"] {
            guard let path = Tool.find(tool) else { continue }
            if nftDone {
                let v = Tool.run(path, ["-V"], timeoutMs: 3000)
                if !v.stdout.contains("legacy") { continue }
            }
            let r = Tool.run(path, ["-S"], timeoutMs: 3000)
            if r.status == 0 {
                out.chains += IptablesRules.parse(r.stdout, source: tool)
                out.sources.append("\(tool) -S")
                out.readAny = true
            } else if r.stderr.contains("ermission denied") || r.stderr.contains("not permitted") || geteuid() != 0 {
                out.denied = true
            } else {
                out.notes.append("\(tool) -S failed: \(r.stderr.split(separator: "\n").first ?? "exit \(r.status.map(String.init) ?? "timeout")")")
            }
        }
        return out
    }

    /// The command that inserts an accept rule for (proto, port) in front of `chain`, in the
    /// tool that owns the chain.
    static func acceptCommand(chain: FirewallChain, proto: String, port: Int) -> String {
        // iptables-nft keeps its rules in nft tables `ip filter` / `ip6 filter`, chains in capitals
        if chain.isNft, chain.table == "filter", chain.name == chain.name.uppercased(), chain.family == "ip" || chain.family == "ip6" {
            return "sudo \(chain.family == "ip6" ? "ip6tables" : "iptables") -I \(chain.name) -p \(proto) --dport \(port) -j ACCEPT"
        }
        if chain.isNft {
            return "sudo nft insert rule \(chain.family) \(chain.table) \(chain.name) \(proto) dport \(port) accept"
        }
        return "sudo \(chain.source) -I \(chain.name) -p \(proto) --dport \(port) -j ACCEPT"
    }
}
