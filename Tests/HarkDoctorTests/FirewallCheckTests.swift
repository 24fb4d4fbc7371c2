import Testing
@testable import HarkDoctor

/// The `firewall` check's decisions on recorded rulesets.
@Suite struct FirewallCheckTests {
    private func inspection(nft: String? = nil, iptables: String? = nil) throws -> Firewall.Inspection {
        var i = Firewall.Inspection()
        if let nft { i.chains += NftRuleset.parse(try Fixture.text(nft)); i.sources.append("nft ruleset") }
        if let iptables { i.chains += IptablesRules.parse(try Fixture.text(iptables), source: "iptables"); i.sources.append("iptables -S") }
        i.readAny = true
        return i
    }

    @Test func dropsFailWithTheRuleAndAnAcceptCommandInTheOwningTool() throws {
        let c = FirewallCheck.judge(try inspection(nft: "drops.nft.txt"), tcpPort: 7411, homeFlag: "")
        #expect(c.status == .fail)
        #expect(c.finding == "the firewall drops TCP 7411 (the daemon's) and UDP 5353 (mDNS)")
        #expect(c.details.first == "TCP 7411 (the daemon's) is dropped by nft table ip filter chain INPUT: tcp dport 7411 counter packets 0 bytes 0 drop")
        // an iptables-nft chain gets an iptables command; a chain of nft's own an nft command
        #expect(c.fix == "allow them: sudo iptables -I INPUT -p tcp --dport 7411 -j ACCEPT; "
            + "sudo ip6tables -I INPUT -p udp --dport 5353 -j ACCEPT; sudo nft insert rule inet doctortest in udp dport 5353 accept")
    }

    @Test func dropsReadThroughIptables() throws {
        let c = FirewallCheck.judge(try inspection(iptables: "drops.iptables-S.txt"), tcpPort: 7411, homeFlag: "")
        #expect(c.status == .fail)
        #expect(c.finding == "the firewall drops TCP 7411 (the daemon's)")
        #expect(c.fix == "allow them: sudo iptables -I INPUT -p tcp --dport 7411 -j ACCEPT")
    }

    @Test func policyDropIsFineWhenAJumpedToChainAccepts() throws {
        for i in [try inspection(nft: "ufw.nft.txt"), try inspection(iptables: "ufw.iptables-S.txt")] {
            let c = FirewallCheck.judge(i, tcpPort: 7411, homeFlag: "")
            #expect(c.status == .ok, "\(c)")
            #expect(c.finding.hasPrefix("no rule drops TCP 7411 (the daemon's) and UDP 5353 (mDNS) ("))
        }
    }

    @Test func policyDropWithoutAnAcceptWarns() throws {
        // the ufw ruleset, for a port its user chain does not accept
        let c = FirewallCheck.judge(try inspection(iptables: "ufw.iptables-S.txt"), tcpPort: 7500, homeFlag: "")
        #expect(c.status == .warn)
        #expect(c.finding == "an input chain drops by default and no rule accepts TCP 7500 (the daemon's) and UDP 5353 (mDNS)")
        #expect(c.details == ["iptables chain INPUT has policy drop and no rule accepts TCP 7500 (the daemon's)"])
        #expect(c.fix == "allow them: sudo iptables -I INPUT -p tcp --dport 7500 -j ACCEPT")
    }

    @Test func nftPolicyDropNamesTheNftCommand() throws {
        let c = FirewallCheck.judge(try inspection(nft: "nft-policy.nft.txt"), tcpPort: 7500, homeFlag: "")
        #expect(c.status == .warn)
        #expect(c.fix == "allow them: sudo nft insert rule inet filter input tcp dport 7500 accept")
    }

    @Test func emptyIsOkAndWithoutDaemonOnlyMDNSIsLookedFor() throws {
        let c = FirewallCheck.judge(try inspection(nft: "empty.nft.txt", iptables: "empty.iptables-S.txt"), tcpPort: nil, homeFlag: "")
        #expect(c.status == .ok)
        #expect(c.finding == "no rule drops UDP 5353 (mDNS); no daemon, so its TCP port is unknown (nft ruleset, iptables -S: 1 chain)")
    }

    @Test func unreadableFirewallIsSkipped() {
        var denied = Firewall.Inspection()
        denied.denied = true
        let c = FirewallCheck.judge(denied, tcpPort: 7411, homeFlag: " --home /tmp/h")
        #expect(c.status == .skip)
        #expect(c.finding == "cannot inspect the firewall (not root); looked for drops of TCP 7411 (the daemon's) and UDP 5353 (mDNS)")
        #expect(c.fix == "run sudo hark doctor --home /tmp/h, or look yourself: sudo nft list ruleset")
        let none = FirewallCheck.judge(Firewall.Inspection(), tcpPort: 7411, homeFlag: "")
        #expect(none.status == .skip && none.finding == "no nft or iptables to inspect")
    }

    @Test func acceptCommands() {
        let legacy = FirewallChain(source: "ip6tables", name: "INPUT", isInputHook: true, policyDrop: false,
                                   family: "", table: "filter", isNft: false)
        #expect(Firewall.acceptCommand(chain: legacy, proto: "udp", port: 5353) == "sudo ip6tables -I INPUT -p udp --dport 5353 -j ACCEPT")
    }
}
