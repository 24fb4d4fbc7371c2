import Foundation
import Synchronization
@testable import HarkDiscovery

/// Drains an `AvahiDiscovery`'s events into a buffer so tests can wait for one with a
/// deadline (bounded polling every 20 ms).
final class EventCollector: Sendable {
    private let buffer = Mutex<[(at: ContinuousClock.Instant, event: DiscoveryEvent)]>([])
    private let ended = Mutex(false)
    let startedAt = ContinuousClock.now

    init(_ discovery: AvahiDiscovery) {
        let stream = discovery.events
        Task { [self] in
            for await e in stream { buffer.withLock { $0.append((ContinuousClock.now, e)) } }
            ended.withLock { $0 = true }
        }
    }

    var events: [DiscoveryEvent] { buffer.withLock { $0.map(\.event) } }
    var hasEnded: Bool { ended.withLock { $0 } }

    /// The first event after index `from` matching `match`, waiting at most `timeoutMs`.
    /// Returns the event, its index and the milliseconds since `since`.
    func wait(from: Int = 0, timeoutMs: Int, since: ContinuousClock.Instant? = nil,
              _ match: (DiscoveryEvent) -> Bool) async -> (event: DiscoveryEvent, index: Int, ms: Int)? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            let hit = buffer.withLock { b -> (DiscoveryEvent, Int, ContinuousClock.Instant)? in
                for i in from..<max(from, b.count) where match(b[i].event) { return (b[i].event, i, b[i].at) }
                return nil
            }
            if let (e, i, at) = hit {
                let d = at - (since ?? startedAt)
                return (e, i, Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func waitEnded(timeoutMs: Int) async -> Bool {
        for _ in 0..<(timeoutMs / 20) {
            if hasEnded { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return hasEnded
    }
}

func randomHex(bytes: Int) -> String {
    (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
}
