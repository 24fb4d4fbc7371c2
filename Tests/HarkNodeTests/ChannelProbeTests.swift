@testable import HarkNode
import Testing

@Suite struct ChannelProbeTests {
    @Test func aProbeIsAnsweredOnlyByItsEchoAndEndsIdle() {
        var p = ChannelProbe()
        #expect(p.verdict(nowMs: 0) == .idle)
        let nonce = p.start(nowMs: 1_000, random: 0xFFFF_0000_0000_1234)
        #expect(nonce == 0x7FFF_0000_0000_1234, "bit 63 is cleared in a request")
        #expect(ChannelProbe.isRequest(nonce!) && !ChannelProbe.isEcho(nonce!))
        let second = p.start(nowMs: 1_100, random: 7)
        #expect(second == nil, "one probe at a time")
        let byRequest = p.received(echo: nonce!)
        #expect(!byRequest, "the request itself is not an answer")
        let byOther = p.received(echo: ChannelProbe.echo(of: 42))
        #expect(!byOther, "another probe's answer is ignored")
        #expect(p.verdict(nowMs: 1_999) == .waiting)
        let byEcho = p.received(echo: ChannelProbe.echo(of: nonce!))
        #expect(byEcho)
        #expect(p.verdict(nowMs: 5_000) == .idle && p.answered == 1)
    }

    @Test func anUnansweredProbeIsDeadAfterOneSecond() {
        var p = ChannelProbe()
        _ = p.start(nowMs: 10_000, random: 99)
        #expect(p.verdict(nowMs: 10_999) == .waiting)
        #expect(p.verdict(nowMs: 11_000) == .dead)
        let late = p.received(echo: ChannelProbe.echo(of: 98))
        #expect(!late)
        #expect(p.verdict(nowMs: 11_500) == .dead)
    }

    @Test func nonceZeroIsAPlainKeepaliveAndEchoesAreNeverAnswered() {
        #expect(!ChannelProbe.isRequest(0) && !ChannelProbe.isEcho(0))
        var p = ChannelProbe()
        let nonce = p.start(nowMs: 0, random: 0)
        #expect(nonce == 1, "a zero draw becomes 1, never the keepalive nonce")
        #expect(!ChannelProbe.isRequest(ChannelProbe.echo(of: 5)))
    }

    @Test func channelsWhoseLocalAddressIsGoneAreStranded() {
        let held: Set<String> = ["127.0.0.1", "10.0.0.12", "fe80::1"]
        let channels: [(id: UInt64, localIP: String?)] = [
            (1, "10.0.0.2"), (2, "10.0.0.12"), (3, "::ffff:10.0.0.2"), (4, "fe80::1%lan0"), (5, nil), (6, "FE80::2"),
        ]
        #expect(LocalAddresses.stranded(channels: channels, held: held) == [1, 3, 6])
    }

    @Test func thisHostHoldsLoopback() {
        #expect(LocalAddresses.held()?.contains("127.0.0.1") == true)
    }
}
