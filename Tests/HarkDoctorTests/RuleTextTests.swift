import Testing
@testable import HarkDoctor

@Suite struct RuleTextTests {
    @Test func tokensKeepQuotesAndBracesWhole() {
        #expect(RuleText.tokens(#"tcp dport { 22, 8000-8010 } counter accept comment "ssh and web""#)
            == ["tcp", "dport", "{ 22, 8000-8010 }", "counter", "accept", "comment", "\"ssh and web\""])
        #expect(RuleText.tokens("  -A INPUT   -j DROP ") == ["-A", "INPUT", "-j", "DROP"])
        #expect(RuleText.tokens("") == [])
    }

    @Test func portsSingleListRangeAndServiceName() {
        #expect(RuleText.parsePorts("7411") == [7411...7411])
        #expect(RuleText.parsePorts("80, 5353") == [80...80, 5353...5353])
        #expect(RuleText.parsePorts("6000-6010") == [6000...6010])
        #expect(RuleText.parsePorts("6000:6010") == [6000...6010])
        #expect(RuleText.parsePorts("mdns") == [5353...5353])
    }

    @Test func portsNotUnderstoodAreNil() {
        #expect(RuleText.parsePorts("") == nil)
        #expect(RuleText.parsePorts("ssh") == nil)
        #expect(RuleText.parsePorts("9-3") == nil)
        #expect(RuleText.parsePorts("1-2-3") == nil)
        #expect(RuleText.parsePorts("80,x") == nil)
    }
}
