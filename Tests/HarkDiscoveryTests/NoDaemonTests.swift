import Foundation
import Logging
import Testing
@testable import HarkDiscovery

/// Without a D-Bus system bus, discovery reports `.unavailable` and keeps retrying.
///
/// libdbus reads `DBUS_SYSTEM_BUS_ADDRESS` once per process and caches it, so the check
/// runs in a child: this test binary re-run with only ``NoDaemonChild`` enabled and the
/// bus pointed at a socket that does not exist.
@Suite struct NoDaemonTests {
    @Test func reportsUnavailableWithoutDBus() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["--testing-library", "swift-testing", "--filter", "NoDaemonChild"]
        var env = ProcessInfo.processInfo.environment
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent/hark-test-bus"
        env["HARK_TEST_NO_DAEMON_CHILD"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").filter { $0.contains("HARK-CHILD") }
        print(lines.joined(separator: "\n"))
        #expect(p.terminationStatus == 0, "child failed:\n\(text.suffix(3000))")
        #expect(lines.contains { $0.contains("HARK-CHILD ok") }, "child output:\n\(text.suffix(3000))")
    }

    @Test func stopWithoutStartEndsStream() async {
        let d = AvahiDiscovery(advert: ServiceAdvert(instanceName: "x", port: 1, txt: TXTRecord()),
                               logger: Logger(label: "test"))
        let c = EventCollector(d)
        d.stop()
        d.stop()
        d.start()                       // after stop: does nothing
        #expect(await c.waitEnded(timeoutMs: 1000))
        #expect(c.events.isEmpty)
    }
}

/// The child half of ``NoDaemonTests/reportsUnavailableWithoutDBus()``.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HARK_TEST_NO_DAEMON_CHILD"] == "1"))
struct NoDaemonChild {
    @Test func unavailableThenRetriesThenStops() async throws {
        let advert = ServiceAdvert(instanceName: "hark-nodaemon", port: 4242,
                                   txt: .hark(token: randomHex(bytes: 8), displayName: "n"))
        let d = AvahiDiscovery(advert: advert, logger: Logger(label: "test"), retryIntervalMs: 200)
        let c = EventCollector(d)
        d.start()
        d.start()                       // second start: no effect
        let hit = try #require(await c.wait(timeoutMs: 3000) {
            if case .unavailable = $0 { true } else { false }
        })
        guard case .unavailable(let reason) = hit.event else { return }
        print("HARK-CHILD unavailable after \(hit.ms) ms: \(reason)")
        #expect(hit.ms < 3000)
        #expect(reason.contains("D-Bus") && reason.contains("avahi-daemon"))
        try await Task.sleep(for: .milliseconds(700))    // a few retries: no crash, no duplicates
        #expect(c.events.count == 1, "same reason is reported once: \(c.events)")
        d.stop()
        d.stop()
        #expect(await c.waitEnded(timeoutMs: 1000))
        print("HARK-CHILD ok")
    }
}
