/// One chain's rules, reduced to what decides the fate of a new inbound TCP/UDP packet to a port.
struct FirewallChain: Equatable {
    enum Verdict: Equatable { case accept, drop }
    struct Rule: Equatable {
        var text: String
        /// nil: any protocol.
        var protocols: Set<String>?
        /// nil: any port.
        var ports: [ClosedRange<Int>]?
        var portsNegated = false
        /// `-i lo` / `iifname "lo"`: only this host's own traffic.
        var loopbackOnly = false
        /// Conditions not understood (addresses, conntrack state, sets…): the rule is not general.
        var otherConditions = false
        var verdict: Verdict?

        func applies(proto: String, port: Int) -> Bool {
            if otherConditions || loopbackOnly || verdict == nil { return false }
            if let protocols, !protocols.contains(proto) { return false }
            if let ports { return ports.contains { $0.contains(port) } != portsNegated }
            return true
        }
    }
    enum Outcome: Equatable { case accepted, dropped(String), policyDrop, noMatch }

    /// e.g. `nft table inet filter`, `iptables`, `ip6tables`.
    var source: String
    var name: String
    /// A base chain on the input (or prerouting/ingress) path; others are not inspected.
    var isInputHook: Bool
    var policyDrop: Bool
    var family: String
    var table: String
    var isNft: Bool
    var rules: [Rule] = []

    /// The first general rule for (proto, port) decides; else the policy of an input chain.
    /// In a chain reached only by jumps (whose conditions are not followed), only rules that
    /// name the port count: a bare `-j DROP` there is usually behind other tests.
    func verdict(proto: String, port: Int) -> Outcome {
        for r in rules where r.applies(proto: proto, port: port) && (isInputHook || r.ports != nil) {
            return r.verdict == .drop ? .dropped(r.text) : .accepted
        }
        return isInputHook && policyDrop ? .policyDrop : .noMatch
    }
}
