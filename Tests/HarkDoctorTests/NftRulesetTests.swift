import Foundation
import Testing
@testable import HarkDoctor

/// `nft list ruleset` as recorded, read by ``NftRuleset``, with nft's own JSON of the same
/// ruleset as the reference for chains, hooks and policies.
@Suite struct NftRulesetTests {
    private func chain(_ chains: [FirewallChain], _ family: String, _ table: String, _ name: String) throws -> FirewallChain {
        try #require(chains.first { $0.family == family && $0.table == table && $0.name == name },
                     "no chain \(family) \(table) \(name) in \(chains.map { "\($0.family) \($0.table) \($0.name)" })")
    }

    @Test func dropsOfTheDaemonPortAndOfMDNS() throws {
        let chains = NftRuleset.parse(try Fixture.text("drops.nft.txt"))
        #expect(chains.count == 3)
        let v4 = try chain(chains, "ip", "filter", "INPUT")
        #expect(v4.isInputHook && !v4.policyDrop && v4.isNft)
        #expect(v4.source == "nft table ip filter")
        #expect(v4.verdict(proto: "tcp", port: 7411) == .dropped("tcp dport 7411 counter packets 0 bytes 0 drop"))
        #expect(v4.verdict(proto: "udp", port: 7411) == .noMatch)
        #expect(v4.verdict(proto: "tcp", port: 7412) == .noMatch)
        // `reject` drops as far as a sender can tell
        let v6 = try chain(chains, "ip6", "filter", "INPUT")
        #expect(v6.verdict(proto: "udp", port: 5353) == .dropped("udp dport 5353 counter packets 0 bytes 0 reject"))
        let own = try chain(chains, "inet", "doctortest", "in")
        #expect(own.verdict(proto: "udp", port: 5353) == .dropped("udp dport 5353 drop"))
        #expect(own.verdict(proto: "tcp", port: 5353) == .noMatch)
    }

    @Test func policyDropSetsRangesNegationAndJumps() throws {
        let chains = NftRuleset.parse(try Fixture.text("nft-policy.nft.txt"))
        // output has no rule and no input hook; the bridge family is never inspected
        #expect(chains.map(\.name) == ["allow-lan", "input"])
        let input = try chain(chains, "inet", "filter", "input")
        #expect(input.isInputHook && input.policyDrop)
        // established, lo, @set and saddr rules are not general; the jump is not followed
        #expect(input.verdict(proto: "tcp", port: 7411) == .policyDrop)
        #expect(input.verdict(proto: "tcp", port: 22) == .accepted)
        #expect(input.verdict(proto: "tcp", port: 8005) == .accepted)
        #expect(input.verdict(proto: "tcp", port: 8011) == .policyDrop)
        #expect(input.verdict(proto: "udp", port: 53) == .dropped("udp dport != 5353 drop"))
        #expect(input.verdict(proto: "udp", port: 5353) == .policyDrop)
        let lan = try chain(chains, "inet", "filter", "allow-lan")
        #expect(!lan.isInputHook)
        #expect(lan.verdict(proto: "tcp", port: 7411) == .accepted)
        #expect(lan.verdict(proto: "udp", port: 5353) == .accepted)
        #expect(lan.verdict(proto: "udp", port: 7411) == .noMatch)
    }

    @Test func iptablesNftChainsOfUfwStyle() throws {
        let chains = NftRuleset.parse(try Fixture.text("ufw.nft.txt"))
        let input = try chain(chains, "ip", "filter", "INPUT")
        #expect(input.policyDrop && input.rules.count == 2)   // the two jumps are not rules
        // a bare drop in a chain reached by a jump is not a finding
        let deny = try chain(chains, "ip", "filter", "doctor-deny")
        #expect(deny.verdict(proto: "tcp", port: 7411) == .noMatch)
        let user = try chain(chains, "ip", "filter", "doctor-user")
        #expect(user.verdict(proto: "tcp", port: 7411) == .accepted)
        #expect(user.verdict(proto: "udp", port: 5353) == .accepted)
        #expect(user.verdict(proto: "udp", port: 80) == .accepted)
        #expect(user.verdict(proto: "tcp", port: 6005) == .accepted)
        #expect(user.verdict(proto: "tcp", port: 5353) == .noMatch)
    }

    @Test func emptyRuleset() throws {
        #expect(NftRuleset.parse(try Fixture.text("empty.nft.txt")).isEmpty)
    }

    /// Every chain the text reader keeps matches nft's JSON (`nft -j list ruleset`) in family,
    /// table, hook and policy, and no base chain on an input path is missed.
    @Test(arguments: ["drops", "nft-policy", "ufw", "empty"])
    func chainsAgreeWithNftJSON(_ name: String) throws {
        let parsed = NftRuleset.parse(try Fixture.text("\(name).nft.txt"))
        let json = try JSONDecoder().decode(NftJSON.self, from: Data(try Fixture.text("\(name).nft.json").utf8))
        let reference = json.nftables.compactMap(\.chain)
        for c in parsed {
            let r = try #require(reference.first { $0.family == c.family && $0.table == c.table && $0.name == c.name })
            let inputPath = ["input", "prerouting", "ingress"].contains(r.hook ?? "") && !["bridge", "arp"].contains(r.family)
            #expect(c.isInputHook == inputPath, "\(c.name)")
            #expect(c.policyDrop == (r.policy == "drop"), "\(c.name)")
        }
        for r in reference where ["input", "prerouting", "ingress"].contains(r.hook ?? "") && !["bridge", "arp"].contains(r.family) {
            #expect(parsed.contains { $0.family == r.family && $0.table == r.table && $0.name == r.name }, "missed \(r.name)")
        }
    }
}

/// The part of libnftables-json(5) the reference test reads.
private struct NftJSON: Decodable {
    struct Item: Decodable { var chain: Chain? }
    struct Chain: Decodable { var family: String; var table: String; var name: String; var hook: String?; var policy: String? }
    var nftables: [Item]
}
