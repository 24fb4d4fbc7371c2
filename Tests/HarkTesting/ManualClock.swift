import HarkNode
import Synchronization

/// A `NodeClock` whose time moves only when a test calls `advance(by:)`: a node given one runs
/// its heartbeats, keepalives, probes, broadcast timers and expiries without sleeping, and a
/// test can step minutes of them in milliseconds of real time.
///
/// Wall and monotonic time move together. A sleeper resumes once `advance` moves the monotonic
/// time to or past its deadline; `advance` resumes every sleeper whose deadline passed, earliest
/// first, in one step (a loop that sleeps 1,000 ms and is advanced by 8,000 ms runs once, then
/// sleeps again from the new time). A sleeping task that is cancelled resumes at once with
/// `CancellationError`.
///
/// Thread-safety: all state is under one lock; safe from any thread and task.
public final class ManualClock: NodeClock {
    private enum Entry {
        /// `sleep` was entered and has not parked yet.
        case registered
        case parked(deadlineMs: Int64, continuation: CheckedContinuation<Void, any Error>)
        /// Cancelled before it parked.
        case cancelled
    }

    private struct State {
        var wallMs: Int64
        var monotonicMs: Int64
        var nextID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - wallMs: the wall time at the start, ms since the Unix epoch (default 2026-01-01 00:00
    ///     UTC). Nodes that exchange invites should start at the same wall time.
    ///   - monotonicMs: the monotonic time at the start, ms.
    public init(wallMs: Int64 = 1_767_225_600_000, monotonicMs: Int64 = 1_000_000) {
        state = Mutex(State(wallMs: wallMs, monotonicMs: monotonicMs))
    }

    public func wallMs() -> Int64 { state.withLock { $0.wallMs } }

    public func monotonicMs() -> Int64 { state.withLock { $0.monotonicMs } }

    /// Tasks sleeping on this clock now.
    public var sleepers: Int {
        state.withLock { s in
            s.entries.values.count(where: { if case .parked = $0 { return true } else { return false } })
        }
    }

    /// The earliest deadline of a sleeper, monotonic ms; nil when none sleeps.
    public var nextDeadlineMs: Int64? {
        state.withLock { s in
            s.entries.values.compactMap { e -> Int64? in if case let .parked(d, _) = e { return d } else { return nil } }.min()
        }
    }

    public func sleep(ms: Int64) async throws {
        try Task.checkCancellation()
        if ms <= 0 { return }
        let id = state.withLock { s in
            s.nextID += 1
            s.entries[s.nextID] = .registered
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { s -> Bool in
                    if case .cancelled = s.entries[id] {
                        s.entries[id] = nil
                        return true
                    }
                    s.entries[id] = .parked(deadlineMs: s.monotonicMs + ms, continuation: c)
                    return false
                }
                if cancelled { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let parked = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                switch s.entries[id] {
                case let .parked(_, c)?:
                    s.entries[id] = nil
                    return c
                case .registered?:
                    s.entries[id] = .cancelled
                    return nil
                case .cancelled?, nil:
                    return nil
                }
            }
            parked?.resume(throwing: CancellationError())
        }
    }

    /// Moves wall and monotonic time forward by `ms` (≥ 0) and resumes the sleepers whose
    /// deadline is now reached, earliest deadline first.
    public func advance(by ms: Int64) {
        precondition(ms >= 0, "a clock does not go back")
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.wallMs += ms
            s.monotonicMs += ms
            var due: [(deadline: Int64, id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
            for (id, entry) in s.entries {
                if case let .parked(deadline, c) = entry, deadline <= s.monotonicMs { due.append((deadline, id, c)) }
            }
            for d in due { s.entries[d.id] = nil }
            return due.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }.map(\.continuation)
        }
        for c in due { c.resume() }
    }
}
