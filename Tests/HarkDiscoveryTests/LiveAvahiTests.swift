import Foundation
import Logging
import Testing
@testable import HarkDiscovery

private let liveEnabled = ProcessInfo.processInfo.environment["HARK_TEST_AVAHI"] == "1"

/// Against a real avahi-daemon (reached through `DBUS_SYSTEM_BUS_ADDRESS`). Enabled by
/// `HARK_TEST_AVAHI=1`; then an unreachable daemon is a failure, not a skip. Run through
/// `scripts/test-discovery-live.sh` (lab host h0: one avahi-daemon on lo only).
/// Serialized: the restart test stops the shared daemon.
@Suite(.serialized, .enabled(if: liveEnabled, "set HARK_TEST_AVAHI=1 (scripts/test-discovery-live.sh)"))
struct LiveAvahiTests {
    private func logger(_ label: String) -> Logger {
        var l = Logger(label: label)
        l.logLevel = ProcessInfo.processInfo.environment["HARK_TEST_DEBUG"] == "1" ? .debug : .info
        return l
    }

    private func isAvailable(_ e: DiscoveryEvent) -> Bool { if case .available = e { true } else { false } }
    private func isUnavailable(_ e: DiscoveryEvent) -> Bool { if case .unavailable = e { true } else { false } }
    private func isPublished(_ e: DiscoveryEvent) -> Bool { if case .published = e { true } else { false } }

    @Test func publishThenBrowseInSameProcess() async throws {
        let tok = randomHex(bytes: 8)
        let name = "hark-live-\(randomHex(bytes: 3))"
        let pub = AvahiDiscovery(advert: ServiceAdvert(instanceName: name, port: 4711,
                                                       txt: .hark(token: tok, displayName: "Alice")),
                                 logger: logger("pub"))
        let browser = AvahiDiscovery(advert: ServiceAdvert(instanceName: name + "-b", port: 4712,
                                                           txt: .hark(token: randomHex(bytes: 8), displayName: "Bob")),
                                     logger: logger("browse"))
        let pc = EventCollector(pub), bc = EventCollector(browser)
        defer { pub.stop(); browser.stop() }
        let t0 = ContinuousClock.now
        pub.start()
        browser.start()

        let up = try #require(await pc.wait(timeoutMs: 5000) { isAvailable($0) || isUnavailable($0) },
                              "no .available within 5 s: \(pc.events)")
        #expect(isAvailable(up.event), "daemon not reachable: \(pc.events)")
        #expect(pc.events.contains(.published(instanceName: name)))
        print("live: publisher .available after \(up.ms) ms")

        let found = try #require(await bc.wait(timeoutMs: 5000, since: t0) {
            if case .found(let s) = $0 { s.instanceName == name } else { false }
        }, "browser did not find \(name) within 5 s: \(bc.events)")
        guard case .found(let s) = found.event else { return }
        print("live: .found after \(found.ms) ms: \(s)")
        #expect(s.port == 4711)
        #expect(s.txt == .hark(token: tok, displayName: "Alice"))
        #expect(try s.txt.encodedStrings() == ["v=1", "tok=\(tok)", "name=Alice"])   // wire order kept
        #expect(!s.addresses.isEmpty)
        #expect(!s.hostName.isEmpty)

        // the publisher sees itself too (the node filters by tok)
        #expect(await pc.wait(timeoutMs: 5000) {
            if case .found(let s) = $0 { s.txt["tok"] == tok } else { false }
        } != nil)

        // TXT change in place → reported again
        let t1 = ContinuousClock.now
        pub.updateAdvert(ServiceAdvert(instanceName: name, port: 4711, txt: .hark(token: tok, displayName: "Alice 2")))
        let changed = try #require(await bc.wait(from: found.index + 1, timeoutMs: 5000, since: t1) {
            if case .found(let s) = $0 { s.instanceName == name && s.txt["name"] == "Alice 2" } else { false }
        }, "TXT update not seen within 5 s: \(bc.events)")
        print("live: TXT update seen after \(changed.ms) ms")

        // withdrawal → .lost
        let t2 = ContinuousClock.now
        pub.stop()
        let lost = try #require(await bc.wait(timeoutMs: 5000, since: t2) {
            if case .lost(let n, _) = $0 { n == name } else { false }
        }, "no .lost within 5 s: \(bc.events)")
        print("live: .lost after \(lost.ms) ms")
        #expect(await pc.waitEnded(timeoutMs: 1000))
    }

    @Test func nameCollisionPicksAlternative() async throws {
        let name = "hark-dup-\(randomHex(bytes: 3))"
        func make(_ label: String) -> AvahiDiscovery {
            AvahiDiscovery(advert: ServiceAdvert(instanceName: name, port: 4800,
                                                 txt: .hark(token: randomHex(bytes: 8), displayName: label)),
                           logger: logger(label))
        }
        let a = make("a"), b = make("b")
        let ac = EventCollector(a), bc = EventCollector(b)
        defer { a.stop(); b.stop() }
        a.start()
        _ = try #require(await ac.wait(timeoutMs: 5000) { isPublished($0) })
        b.start()
        let pb = try #require(await bc.wait(timeoutMs: 5000) { isPublished($0) }, "\(bc.events)")
        print("live: second publisher got \(pb.event)")
        #expect(pb.event == .published(instanceName: name + " #2"))
    }

    @Test func comesBackAfterAvahiRestart() async throws {
        let env = ProcessInfo.processInfo.environment
        let lab = try #require(env["LAB_SH"], "LAB_SH unset: run under scripts/lab.sh exec (scripts/test-discovery-live.sh)")
        let host = try #require(env["LAB_HOST"])
        let name = "hark-restart-\(randomHex(bytes: 3))"
        let d = AvahiDiscovery(advert: ServiceAdvert(instanceName: name, port: 4900,
                                                     txt: .hark(token: randomHex(bytes: 8), displayName: "R")),
                               logger: logger("restart"), retryIntervalMs: 500)
        let c = EventCollector(d)
        defer { d.stop() }
        d.start()
        let first = try #require(await c.wait(timeoutMs: 5000) { isAvailable($0) }, "\(c.events)")

        let tStop = ContinuousClock.now
        try run(lab, "stop-avahi", host)
        let down = try #require(await c.wait(from: first.index + 1, timeoutMs: 5000, since: tStop) { isUnavailable($0) },
                                "no .unavailable after stop-avahi: \(c.events)")
        print("live: .unavailable \(down.ms) ms after stop-avahi: \(down.event)")

        // a second instance started while the daemon is down (D-Bus up): waits in CONNECTING
        let late = AvahiDiscovery(advert: ServiceAdvert(instanceName: name + "-late", port: 4901,
                                                        txt: .hark(token: randomHex(bytes: 8), displayName: "L")),
                                  logger: logger("late"), retryIntervalMs: 500)
        let lc = EventCollector(late)
        defer { late.stop() }
        late.start()
        let waiting = try #require(await lc.wait(timeoutMs: 3000) { isUnavailable($0) }, "\(lc.events)")
        print("live: instance started without daemon: \(waiting.event) after \(waiting.ms) ms")
        #expect(waiting.event == .unavailable(reason: "avahi-daemon is not running (waiting for it to appear on D-Bus)"))

        let tStart = ContinuousClock.now
        try run(lab, "start-avahi", host)
        let back = try #require(await c.wait(from: down.index + 1, timeoutMs: 10000, since: tStart) { isAvailable($0) },
                                "no .available after start-avahi: \(c.events)")
        print("live: .available again \(back.ms) ms after start-avahi returned")
        #expect(c.events[(down.index + 1)...].contains(.published(instanceName: name)))
        let lateUp = try #require(await lc.wait(timeoutMs: 10000, since: tStart) { isAvailable($0) }, "\(lc.events)")
        print("live: late instance .available \(lateUp.ms) ms after start-avahi returned")
        // and browsing works again: each sees the other (the sighting may come before or after
        // the .available event, so look from the moment the daemon went down)
        #expect(await c.wait(from: down.index + 1, timeoutMs: 5000) {
            if case .found(let s) = $0 { s.instanceName == name + "-late" } else { false }
        } != nil, "\(c.events)")
    }

    /// Two-host check: run on a lab host while another host publishes `HARK_TEST_PEER`
    /// (e.g. with avahi-publish). Checks addresses from both families and the IPv6
    /// link-local scope id, and that publishing the same name here ends in `NAME #2`
    /// (a collision with a record another host already owns, RFC 6762 §9).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["HARK_TEST_PEER"] != nil))
    func seesPeerOnOtherHost() async throws {
        let peer = ProcessInfo.processInfo.environment["HARK_TEST_PEER"]!
        let tok = randomHex(bytes: 8)
        let d = AvahiDiscovery(advert: ServiceAdvert(instanceName: peer, port: 5000,
                                                     txt: .hark(token: tok, displayName: "P")),
                               logger: logger("peer"))
        let c = EventCollector(d)
        defer { d.stop() }
        d.start()
        // the peer is whatever carries another tok (ours has the same name, on purpose)
        func theirs(_ e: DiscoveryEvent, named n: String) -> ServiceSighting? {
            if case .found(let s) = e, s.instanceName == n, s.txt["tok"] != tok { s } else { nil }
        }
        func ours(_ e: DiscoveryEvent, named n: String) -> ServiceSighting? {
            if case .found(let s) = e, s.instanceName == n, s.txt["tok"] == tok { s } else { nil }
        }
        let hit = try #require(await c.wait(timeoutMs: 8000) { e in
            guard let s = theirs(e, named: peer) ?? theirs(e, named: peer + " #2") else { return false }
            return s.addresses.contains(where: \.isIPv6) && s.addresses.contains(where: { !$0.isIPv6 })
        }, "\(c.events)")
        let s = try #require(theirs(hit.event, named: peer) ?? theirs(hit.event, named: peer + " #2"))
        print("live: peer after \(hit.ms) ms: \(s.instanceName) \(s.hostName) \(s.addresses) port \(s.port) txt \(s.txt.entries)")
        for a in s.addresses where a.isIPv6 && a.ip.hasPrefix("fe80:") {
            #expect(a.scopeID == UInt32(s.interfaceIndex))
        }
        for a in s.addresses where !a.isIPv6 { #expect(a.scopeID == 0) }

        // Same name on two hosts (RFC 6762 §9): one side ends up "NAME #2". Usually us,
        // while probing; but when the peer multicast its SRV < 1 s before our probe, avahi's
        // per-record rate limit swallows the probe answer, we keep the name and the other
        // daemon renames its service when it sees our announcement.
        let pub = try #require(await c.wait(timeoutMs: 8000) { isPublished($0) }, "\(c.events)")
        print("live: same name here: \(pub.event) after \(pub.ms) ms")
        let renamed = try #require(await c.wait(timeoutMs: 10000) {
            pub.event == .published(instanceName: peer) ? theirs($0, named: peer + " #2") != nil
                                                       : ours($0, named: peer + " #2") != nil
        }, "no '\(peer) #2' in \(c.events)")
        print("live: collision resolved after \(renamed.ms) ms: \(renamed.event)")
        #expect(pub.event == .published(instanceName: peer) || pub.event == .published(instanceName: peer + " #2"))
    }

    /// Runs a command and waits for it (posix_spawn + waitpid). Not Foundation's
    /// `Process`: on Linux it notices the exit only when every inherited descriptor is
    /// closed, and `lab.sh start-avahi` leaves a daemon holding them.
    private func run(_ args: String...) throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, args[0], nil, nil, argv, environ)
        try #require(rc == 0, "posix_spawn \(args[0]) failed: \(rc)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "\(args) exited with status \(status)")
    }
}
