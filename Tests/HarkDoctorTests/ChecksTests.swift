import Foundation
import HarkControl
import HarkDiscovery
import HarkNode
import Testing
@testable import HarkDoctor

#if canImport(Glibc)
import Glibc
#endif

/// The decisions of the checks other than the firewall, on facts made up in the test (probes
/// passed in), and the real TCP prober on loopback.
@Suite struct ChecksTests {
    private let upMulticast = UInt32(IFF_UP) | UInt32(IFF_MULTICAST)

    private func lan0(flags: UInt32? = nil, ips: [String] = ["10.86.0.1"]) -> LocalInterface {
        LocalInterface(name: "lan0", flags: flags ?? upMulticast,
                       addresses: ips.map { .init(ip: $0, isIPv6: $0.contains(":"), scopeID: $0.hasPrefix("fe80") ? 2 : 0, isLinkLocal: $0.hasPrefix("fe80")) })
    }
    private let lo = LocalInterface(name: "lo", flags: UInt32(IFF_UP) | UInt32(IFF_LOOPBACK),
                                    addresses: [.init(ip: "127.0.0.1", isIPv6: false, scopeID: 0, isLinkLocal: false)])

    private func status(port: Int = 7411, staticPeers: [String]? = nil, discovery: String = "active") -> StatusResult {
        StatusResult(peerId: "p", fingerprint: "f", displayName: "alice", tcpPort: port, discovery: DiscoveryStatus(state: discovery),
                     connectedPeers: 0, groups: 0, home: "/h", version: "test", pid: 1, staticPeers: staticPeers)
    }
    private func peer(_ name: String, connected: Bool = false, address: String?, source: String = "avahi",
                      direction: String? = nil, listenPort: Int? = nil, lastSeenMs: Int64 = 0) -> PeerView {
        PeerView(peerId: name, fingerprint: "fp-\(name)", displayName: name, connected: connected, address: address,
                 direction: direction, source: source, lastSeenMs: lastSeenMs, listenPort: listenPort)
    }

    // MARK: avahi, discovery

    @Test func avahiAbsenceIsAWarningUnderNoDiscovery() {
        let r = AvahiProbe.Result(state: .notRunning, busAddress: "unix:path=/run/dbus/system_bus_socket")
        let fail = AvahiCheck.judge(r, discoveryState: "active")
        #expect(fail.status == .fail)
        #expect(fail.finding == "avahi-daemon is not running (the D-Bus system bus at unix:path=/run/dbus/system_bus_socket answers, avahi is not on it)")
        let warn = AvahiCheck.judge(r, discoveryState: "disabled")
        #expect(warn.status == .warn)
        #expect(warn.finding == fail.finding + " (the daemon runs with --no-discovery, so it does not need it)")
        let ok = AvahiCheck.judge(AvahiProbe.Result(state: .running, version: "avahi 0.8", hostName: "h1.local", busAddress: "x"),
                                  discoveryState: nil)
        #expect(ok == DoctorCheck(name: "avahi", status: .ok, finding: "avahi-daemon (avahi 0.8) answers on D-Bus as h1.local"))
    }

    @Test func discoveryStates() {
        #expect(DiscoveryCheck.judge(nil, avahiOK: true).status == .skip)
        #expect(DiscoveryCheck.judge(status(), avahiOK: true).status == .ok)
        #expect(DiscoveryCheck.judge(status(discovery: "disabled"), avahiOK: true).status == .warn)
        let unavailable = DiscoveryCheck.judge(status(discovery: "unavailable"), avahiOK: true)
        #expect(unavailable.status == .fail)
        #expect(unavailable.fix?.hasPrefix("avahi-daemon answers here but not to the daemon") == true)
        #expect(DiscoveryCheck.judge(status(discovery: "unavailable"), avahiOK: false).fix == "fix avahi-daemon (see avahi); the daemon reconnects by itself")
    }

    // MARK: interfaces

    @Test func interfacesUsableSkippedAndNone() {
        let ok = InterfacesCheck.judge([lo, lan0()], avahiConfig: AvahiConfig())
        #expect(ok.status == .ok && ok.finding == "mDNS can use lan0" && ok.details == ["lan0: up, multicast, 10.86.0.1"])

        let noMulticast = LocalInterface(name: "wg0", flags: UInt32(IFF_UP) | UInt32(IFF_POINTOPOINT),
                                         addresses: [.init(ip: "10.9.0.1", isIPv6: false, scopeID: 0, isLinkLocal: false)])
        let warn = InterfacesCheck.judge([lo, lan0(), noMulticast], avahiConfig: AvahiConfig())
        #expect(warn.status == .warn)
        #expect(warn.finding == "mDNS can use lan0; avahi skips 1 other addressed interface")
        #expect(warn.details.last == "skipped: wg0 (10.9.0.1): no MULTICAST flag, avahi skips it; fix: sudo ip link set dev wg0 multicast on")

        let denied = InterfacesCheck.judge([lo, lan0()], avahiConfig: AvahiConfig.parse("[server]\nallow-interfaces=eth1, eth2\n"))
        #expect(denied.status == .fail)
        #expect(denied.finding.hasSuffix("(only loopback: nodes on this host can still find each other)"))
        #expect(denied.details == ["skipped: lan0 (10.86.0.1): allow-interfaces (eth1,eth2) leaves it out in /etc/avahi/avahi-daemon.conf, so avahi skips it"])

        let down = InterfacesCheck.judge([lan0(flags: UInt32(IFF_MULTICAST))], avahiConfig: AvahiConfig())
        #expect(down.status == .fail && down.details == ["lan0: down"])
    }

    @Test func avahiConfigReadsOnlyTheServerSection() {
        let c = AvahiConfig.parse("""
            [server]
            # allow-interfaces=nothing
            deny-interfaces = docker0 ,virbr0
            allow-point-to-point=Yes
            [publish]
            allow-interfaces=lan9
            """)
        #expect(c.allow == nil && c.deny == ["docker0", "virbr0"] && c.allowPointToPoint)
        #expect(c.excludes("docker0") == "deny-interfaces names it")
        #expect(c.excludes("lan0") == nil)
    }

    // MARK: port

    @Test func portOutcomes() {
        var asked: [TCPTarget] = []
        let dropped = PortCheck.run(7411, interfaces: [lo, lan0(ips: ["10.86.0.1", "fe80::1"])]) { targets, ms in
            asked = targets
            #expect(ms == 1500)
            return [.timedOut, .connected]
        }
        #expect(asked.map(\.label) == ["10.86.0.1:7411", "[fe80::1%lan0]:7411"])   // loopback is not tried
        #expect(dropped.status == .fail)
        #expect(dropped.finding == "TCP 7411 does not answer on 10.86.0.1:7411: a firewall drops it")
        #expect(dropped.details == ["accepts on [fe80::1%lan0]:7411", "no answer within 1.5 s on 10.86.0.1:7411"])

        let refused = PortCheck.run(7411, interfaces: [lan0()]) { _, _ in [.refused] }
        #expect(refused.status == .warn)
        let open = PortCheck.run(7411, interfaces: [lan0()]) { _, _ in [.connected] }
        #expect(open == DoctorCheck(name: "port", status: .ok, finding: "TCP 7411 accepts connections on 1 local address",
                                    details: ["accepts on 10.86.0.1:7411"]))
        #expect(PortCheck.run(nil, interfaces: [lan0()]) { _, _ in Issue.record("probed without a port"); return [] }.status == .skip)
        #expect(PortCheck.run(7411, interfaces: [lo]) { _, _ in Issue.record("probed loopback"); return [] }.status == .skip)
    }

    // MARK: link-local

    @Test func unscopedLinkLocalStaticPeerFails() {
        let c = LinkLocalCheck.judge(status: status(staticPeers: ["[fe80::2]:7411", "10.86.0.2:7411"]),
                                     peers: [peer("bob", address: "[fe80::3]:7411", source: "inbound")],
                                     interfaces: [lo, lan0(ips: ["fe80::1"])])
        #expect(c.status == .fail)
        #expect(c.finding == "1 IPv6 link-local address without a scope: fe80:: is ambiguous without the interface")
        #expect(c.fix == "give the address a scope, e.g. --peer '[fe80::2%lan0]:7411'")
        let ok = LinkLocalCheck.judge(status: status(staticPeers: ["[fe80::2%lan0]:7411"]), peers: [], interfaces: [lan0()])
        #expect(ok.status == .ok && ok.finding == "no fe80:: address without a %scope among 1 peer address")
        #expect(LinkLocalCheck.judge(status: nil, peers: nil, interfaces: []).status == .skip)
    }

    @Test func unscopedLinkLocalAvahiPeerWarns() {
        let c = LinkLocalCheck.judge(status: status(), peers: [peer("bob", address: "[fe80::3]:7411")], interfaces: [lan0()])
        #expect(c.status == .warn)
        #expect(c.details == ["peer bob (fp-bob) has the link-local address [fe80::3]:7411 without a scope"])
        #expect(c.fix == "give the address a scope, e.g. [fe80::3%IFACE]:7411")
    }

    // MARK: peers

    @Test func peersTriedAndJudged() {
        var asked: [String] = []
        let probe: TCPProber = { targets, ms in
            asked = targets.map(\.label)
            #expect(ms == 2000)
            return targets.map { $0.ip == "10.86.0.2" ? .refused : .connected }
        }
        let peers = [
            peer("bob", address: "10.86.0.2:7411", lastSeenMs: 2),
            // inbound: its address's port is not its listening port
            peer("carol", address: "10.86.0.3:50000", source: "inbound", direction: "inbound", listenPort: 7412, lastSeenMs: 3),
            peer("dave", address: "dave.local:7411", lastSeenMs: 1),
            peer("erin", connected: true, address: "10.86.0.5:7411"),
        ]
        let c = PeersCheck.run(status: status(staticPeers: ["10.86.0.9:7411", "10.86.0.2:7411"]), peers: peers, probe: probe)
        #expect(asked == ["10.86.0.3:7412", "10.86.0.2:7411", "10.86.0.9:7411"])   // most recently seen first
        #expect(c.status == .warn)   // erin is connected, so not a failure
        #expect(c.finding == "1 of 4 known peers without a channel is unreachable (1 connected)")
        #expect(c.details.contains("dave (fp-dave): not tried: dave.local:7411 is not an IP address (doctor resolves no names)"))
        #expect(c.details.contains("bob (fp-bob) at 10.86.0.2:7411: unreachable: connection refused, no hark daemon listens there"))

        let alone = PeersCheck.run(status: status(), peers: [peer("bob", address: "10.86.0.2:7411")]) { _, _ in [.timedOut] }
        #expect(alone.status == .fail)
        #expect(alone.details == ["bob (fp-bob) at 10.86.0.2:7411: unreachable: no answer within 2 s (host down, a firewall drops the port, or no route)"])
    }

    @Test func peersAllConnectedOrNone() {
        let none = PeersCheck.run(status: status(), peers: []) { _, _ in Issue.record("probed nothing"); return [] }
        #expect(none == DoctorCheck(name: "peers", status: .ok, finding: "no peers known yet (none found through avahi, none given with --peer)"))
        let all = PeersCheck.run(status: status(), peers: [peer("erin", connected: true, address: "10.86.0.5:7411")]) { _, _ in [] }
        #expect(all.finding == "all 1 known peer is connected")
        #expect(PeersCheck.run(status: nil, peers: nil).status == .skip)
    }

    @Test func atMost32PeersAreTried() {
        let many = (0..<40).map { peer("p\($0)", address: "10.86.1.\($0 + 1):7411") }
        var tried = 0
        let c = PeersCheck.run(status: status(), peers: many) { targets, _ in tried = targets.count; return targets.map { _ in .refused } }
        #expect(tried == PeersCheck.maxPeersTried)
        #expect(c.details.last == "8 more not tried (at most 32)")
        #expect(c.finding == "32 of 40 known peers without a channel are unreachable (0 connected)")
    }

    // MARK: the real prober, on loopback

    @Test func tcpProbeConnectsAndIsRefusedOnLoopback() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(listener, p, len) == 0 && listen(listener, 4) == 0 && getsockname(listener, p, &len) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: sa.sin_port))
        // a port nobody listens on: one just closed
        let spare = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sb = sockaddr_in()
        sb.sin_family = sa_family_t(AF_INET)
        sb.sin_addr.s_addr = inet_addr("127.0.0.1")
        var lenB = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sb) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(spare, $0, lenB) == 0 && getsockname(spare, $0, &lenB) == 0 } }
        let closedPort = Int(UInt16(bigEndian: sb.sin_port))
        close(spare)

        let open = try #require(TCPTarget(host: "127.0.0.1", port: port))
        let refused = try #require(TCPTarget(host: "127.0.0.1", port: closedPort))
        let outcomes = TCPProbe.run([open, refused], timeoutMs: 5000)
        #expect(outcomes == [.connected, .refused])
    }

    @Test func tcpTargetsAreIPLiteralsOnly() throws {
        #expect(TCPTarget(host: "bob.local", port: 7411) == nil)
        let v4 = try #require(TCPTarget(host: "10.0.0.2", port: 7411))
        #expect(!v4.isIPv6 && v4.label == "10.0.0.2:7411")
        let v6 = try #require(TCPTarget(host: "fe80::1%2", port: 7411))
        #expect(v6.isIPv6 && v6.scopeID == 2 && v6.label == "[fe80::1%2]:7411")
        let global = try #require(TCPTarget(host: "2001:db8::1", port: 7411))
        #expect(global.label == "[2001:db8::1]:7411")
    }

    // MARK: home, report

    @Test func homeWithoutIdentity() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-home-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let missing = HomeCheck.run(home: NodeHome(path: dir), homeFlag: " --home \(dir)")
        #expect(missing.0.status == .fail && !missing.1)
        #expect(missing.0.finding == "no hark home at \(dir)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let empty = HomeCheck.run(home: NodeHome(path: dir), homeFlag: "")
        #expect(empty.0.status == .fail && !empty.1)
        #expect(empty.0.fix == "create one: hark init --name NAME")
        #expect(DaemonCheck.run(home: NodeHome(path: dir), homeFlag: "", initialized: false).0.status == .skip)
    }

    @Test func reportCountsAndJSONShape() throws {
        let report = DoctorReport(checks: [
            DoctorCheck(name: "a", status: .ok, finding: "x"),
            DoctorCheck(name: "b", status: .warn, finding: "y", fix: "z"),
            DoctorCheck(name: "c", status: .fail, finding: "w", details: ["d"]),
        ])
        #expect(!report.ok && report.failed == 1 && report.warnings == 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(report.checks[1]), as: UTF8.self)
        #expect(json == #"{"details":[],"finding":"y","fix":"z","name":"b","status":"warn"}"#)
        #expect(DoctorReport(checks: [DoctorCheck(name: "a", status: .warn, finding: "x")]).ok)
    }
}
