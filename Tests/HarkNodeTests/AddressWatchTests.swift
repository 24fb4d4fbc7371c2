import Foundation
import Testing
@testable import HarkNode

/// The timers are long (120–600 s) and the bounds loose (60 s): a parallel test run can keep a task
/// off the cooperative pool for seconds, and what is tested is only that the sleeper does not
/// wait for its timer.
@Suite struct AddressWatchTests {
    @Test func onlyAnAddressThatAppearsCounts() {
        let w = AddressWatch()
        #expect(!w.update(held: ["10.0.0.1"]), "the first poll is the baseline")
        #expect(!w.update(held: ["10.0.0.1"]))
        #expect(!w.update(held: []), "a link that goes down is not an appearance")
        #expect(w.update(held: ["10.0.0.1"]), "the same address back is one")
        #expect(w.update(held: ["10.0.0.1", "fe80::1"]), "an added address is one")
        #expect(!w.update(held: ["fe80::1"]))
    }

    @Test func aSleeperWakesWhenAnAddressAppears() async {
        let w = AddressWatch()
        w.update(held: [])
        let start = Date()
        let epoch = w.epoch
        async let woken = w.sleep(ms: 600_000, since: epoch)
        try? await Task.sleep(for: .milliseconds(100))
        w.update(held: ["192.0.2.7"])
        #expect(await woken, "woken by the address, not by the timer")
        #expect(Date().timeIntervalSince(start) < 60, "well before the 600 s timer")
    }

    @Test func aSleeperWithoutChangeSleepsItsTime() async {
        let w = AddressWatch()
        w.update(held: ["192.0.2.7"])
        let start = Date()
        #expect(await w.sleep(ms: 150, since: w.epoch) == false)
        #expect(Date().timeIntervalSince(start) >= 0.14)
        #expect(!w.update(held: ["192.0.2.7"]))
    }

    @Test func anAppearanceBeforeTheSleepIsNotMissed() async {
        let w = AddressWatch()
        w.update(held: [])
        let epoch = w.epoch   // read before dialling
        w.update(held: ["192.0.2.7"])   // the link comes back while the dial fails
        let start = Date()
        #expect(await w.sleep(ms: 600_000, since: epoch))
        #expect(Date().timeIntervalSince(start) < 60, "well before the 600 s timer")
    }

    @Test func aCancelledSleeperReturnsAtOnce() async {
        let w = AddressWatch()
        let start = Date()
        let t = Task { await w.sleep(ms: 120_000, since: w.epoch) }
        try? await Task.sleep(for: .milliseconds(50))
        t.cancel()
        #expect(await t.value == false)
        #expect(Date().timeIntervalSince(start) < 60, "well before the 120 s timer")
    }
}
