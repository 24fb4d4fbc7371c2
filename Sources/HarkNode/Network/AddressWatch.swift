import HarkDiscovery
import Synchronization

/// The host's own addresses as last polled (`LocalAddresses.held()`, every
/// `LocalAddresses.pollIntervalMs`), and a wake-up for the redial loops when one appears: an
/// interface came up again (a cable plugged back, Wi-Fi rejoined) or an address was added. A redial
/// loop in back-off (up to 10 s, PROTOCOL.md §3.2 "Keepalive") sleeps through `sleep(ms:)`, so a
/// healed link is dialled again within one poll (250 ms) rather than at the end of its back-off.
/// It also keeps the discovered services whose channels were closed because the link went down:
/// discovery forgets them with the link, and would find them again only seconds after it returns
/// (later still on a busy LAN), so the node dials them once itself when an address appears.
///
/// Thread-safe: one lock around the polled set and the sleepers' continuations.
final class AddressWatch: Sendable {
    private struct State: ~Copyable {
        var held: Set<String>?
        var epoch = 0
        var nextSleeper = 0
        var sleepers: [Int: CheckedContinuation<Void, Never>] = [:]
        var stranded: [String: ServiceSighting] = [:]
    }

    /// At most this many stranded services are kept (a LAN's worth of peers).
    static let maxStranded = 1024

    private let state = Mutex(State())

    init() {}

    /// Records one poll. Returns true when `held` has an address the previous poll did not (never
    /// on the first poll), and then wakes every sleeper.
    @discardableResult
    func update(held: Set<String>) -> Bool {
        let woken: [CheckedContinuation<Void, Never>]? = state.withLock { s in
            defer { s.held = held }
            guard let before = s.held, !held.isSubset(of: before) else { return nil }
            s.epoch += 1
            let w = Array(s.sleepers.values)
            s.sleepers.removeAll()
            return w
        }
        guard let woken else { return false }
        for c in woken { c.resume() }
        return true
    }

    /// Keeps `sighting` (the service of device `token`, hex) whose channel was closed because its
    /// local address went away, to be dialled once when an address appears.
    func rememberStranded(token: String, sighting: ServiceSighting) {
        state.withLock { s in
            if s.stranded.count < Self.maxStranded || s.stranded[token] != nil { s.stranded[token] = sighting }
        }
    }

    /// The stranded services kept so far, forgotten as they are returned.
    func takeStranded() -> [(token: String, sighting: ServiceSighting)] {
        state.withLock { s in
            defer { s.stranded.removeAll() }
            return s.stranded.map { (token: $0.key, sighting: $0.value) }
        }
    }

    /// How many times an address has appeared so far; pass it to `sleep(ms:since:)`.
    var epoch: Int { state.withLock { $0.epoch } }

    /// Sleeps `ms` milliseconds, or less: returns at once when an address appeared since `epoch`
    /// was read (so a loop that reads it before dialling misses no appearance), early when one
    /// appears meanwhile, and early when the task is cancelled. Returns true only for an address.
    func sleep(ms: Int64, since epoch: Int) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(max(0, ms)))
                return false
            }
            group.addTask {
                await self.appearance(after: epoch)
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Returns when the epoch is past `epoch` (at once if it is already), or when the task is cancelled.
    private func appearance(after epoch: Int) async {
        let id = state.withLock { s in
            s.nextSleeper += 1
            return s.nextSleeper
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if Task.isCancelled || s.epoch != epoch { return true }
                    s.sleepers[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { s in s.sleepers.removeValue(forKey: id) }?.resume()
        }
    }
}
