import Testing
@testable import HarkDiscovery

@Suite struct HostPortTests {
    @Test func splitsEveryForm() throws {
        let v4 = try #require(HostPort("10.0.0.2:7411"))
        #expect(v4.host == "10.0.0.2" && v4.port == 7411)
        let v6 = try #require(HostPort("[fe80::1%lan0]:7411"))
        #expect(v6.host == "fe80::1%lan0" && v6.port == 7411)
        let bare = try #require(HostPort("fe80::1"))
        #expect(bare.host == "fe80::1" && bare.port == nil)
        let name = try #require(HostPort("h1.local"))
        #expect(name.host == "h1.local" && name.port == nil)
        #expect(HostPort("h1:x")?.port == nil)
        #expect(HostPort("[::1") == nil)
        #expect(HostPort(":7411") == nil)
        #expect(HostPort("") == nil)
    }

    /// What `--peer` accepts: a port in 1…65535, IPv6 in brackets.
    @Test func endpointsNeedAPortInRange() {
        for ok in ["10.0.0.2:7411", "h1.local:1", "[::1]:65535", "[fe80::1%2]:7411"] {
            #expect(HostPort(endpoint: ok) != nil, "\(ok)")
        }
        for bad in ["10.0.0.2", "h1:0", "h1:65536", "h1:-1", "::1:7411", "[::1]", "[::1]7411", "[::1]:x", "[]:7411", ":7411", "h1:"] {
            #expect(HostPort(endpoint: bad) == nil, "\(bad)")
        }
    }

    @Test func descriptionRoundTrips() {
        for text in ["10.0.0.2:7411", "[fe80::1%lan0]:7411", "h1.local"] {
            #expect(HostPort(text)?.description == text)
        }
    }

    @Test func linkLocal() {
        #expect(HostPort("[fe80::1]:7411")?.isUnscopedLinkLocal == true)
        #expect(HostPort("[fe80::1%lan0]:7411")?.isUnscopedLinkLocal == false)
        #expect(HostPort("[febf::1]:7411")?.isUnscopedLinkLocal == true)
        #expect(HostPort("[fec0::1]:7411")?.isUnscopedLinkLocal == false)
        #expect(HostPort("10.0.0.1:7411")?.isUnscopedLinkLocal == false)
        #expect(HostPort.isLinkLocalV6("fe80::1%2"))
    }
}
