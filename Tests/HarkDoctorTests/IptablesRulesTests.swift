import Testing
@testable import HarkDoctor

/// `iptables -S` / `ip6tables -S` as recorded, read by ``IptablesRules``.
@Suite struct IptablesRulesTests {
    @Test func dropOfTheDaemonPort() throws {
        let chains = IptablesRules.parse(try Fixture.text("drops.iptables-S.txt"), source: "iptables")
        #expect(chains.map(\.name) == ["INPUT"])   // FORWARD and OUTPUT are not inbound
        let input = try #require(chains.first)
        #expect(input.isInputHook && !input.policyDrop && !input.isNft && input.source == "iptables")
        #expect(input.verdict(proto: "tcp", port: 7411) == .dropped("-A INPUT -p tcp -m tcp --dport 7411 -j DROP"))
        #expect(input.verdict(proto: "udp", port: 7411) == .noMatch)
    }

    @Test func rejectCountsAsDrop() throws {
        let chains = IptablesRules.parse(try Fixture.text("drops.ip6tables-S.txt"), source: "ip6tables")
        let input = try #require(chains.first)
        #expect(input.verdict(proto: "udp", port: 5353)
            == .dropped("-A INPUT -p udp -m udp --dport 5353 -j REJECT --reject-with icmp6-port-unreachable"))
    }

    @Test func ufwStylePolicyDropWithJumps() throws {
        let chains = IptablesRules.parse(try Fixture.text("ufw.iptables-S.txt"), source: "iptables")
        #expect(chains.map(\.name) == ["INPUT", "doctor-deny", "doctor-user"])
        let input = chains[0]
        #expect(input.policyDrop)
        // conntrack and -i lo rules are not general; jumps carry no verdict
        #expect(input.verdict(proto: "tcp", port: 7411) == .policyDrop)
        #expect(chains[1].verdict(proto: "tcp", port: 7411) == .noMatch)
        let user = chains[2]
        #expect(user.verdict(proto: "tcp", port: 7411) == .accepted)
        #expect(user.verdict(proto: "udp", port: 5353) == .accepted)   // -m multiport --dports 80,5353
        #expect(user.verdict(proto: "tcp", port: 6010) == .accepted)   // --dports 6000:6010 with a comment
        #expect(user.verdict(proto: "tcp", port: 6011) == .noMatch)
    }

    @Test func emptyTableKeepsInputOnly() throws {
        let chains = IptablesRules.parse(try Fixture.text("empty.iptables-S.txt"), source: "iptables")
        #expect(chains.map(\.name) == ["INPUT"])
        #expect(chains[0].verdict(proto: "tcp", port: 7411) == .noMatch)
    }

    @Test func negationAndUnknownMatches() {
        let text = """
            -P INPUT ACCEPT
            -A INPUT -p tcp ! --dport 22 -j DROP
            -A INPUT -s 10.0.0.0/8 -p udp --dport 5353 -j DROP
            -A INPUT ! -p udp -j DROP
            """
        let input = IptablesRules.parse(text, source: "iptables")[0]
        #expect(input.verdict(proto: "tcp", port: 7411) == .dropped("-A INPUT -p tcp ! --dport 22 -j DROP"))
        #expect(input.verdict(proto: "tcp", port: 22) == .noMatch)
        #expect(input.verdict(proto: "udp", port: 5353) == .noMatch)   // only from 10/8: not general
    }
}
