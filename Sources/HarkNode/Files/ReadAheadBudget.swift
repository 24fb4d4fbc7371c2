import Synchronization

/// Bounds the chunks a channel's file server holds prepared (read and sealed) ahead of the
/// socket: at most `maxChunks` chunks and `maxBytes` plaintext bytes at once, except that one
/// chunk is always let through however large (a 64 MiB chunk is served alone). Waiters are let
/// through in order of arrival. `close()` lets every waiter through with `false` and refuses
/// every later `acquire`. Thread-safe.
final class ReadAheadBudget: Sendable {
    /// The budget's bookkeeping, a pure state machine (no clock, no I/O).
    struct State: Sendable {
        let maxChunks: Int
        let maxBytes: Int
        private(set) var chunks = 0
        private(set) var bytes = 0
        private(set) var closed = false

        init(maxChunks: Int, maxBytes: Int) {
            self.maxChunks = maxChunks
            self.maxBytes = maxBytes
        }

        /// Whether a chunk of `bytes` fits now (and is counted if so).
        mutating func take(_ bytes: Int) -> Bool {
            guard !closed else { return false }
            guard chunks == 0 || (chunks < maxChunks && self.bytes + bytes <= maxBytes) else { return false }
            chunks += 1
            self.bytes += bytes
            return true
        }

        /// A chunk of `bytes` taken earlier left the budget.
        mutating func give(_ bytes: Int) {
            chunks = max(0, chunks - 1)
            self.bytes = max(0, self.bytes - bytes)
        }

        mutating func close() { closed = true }
    }

    private struct Guarded: ~Copyable {
        var state: State
        var waiters: [(bytes: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private let guarded: Mutex<Guarded>

    init(maxChunks: Int, maxBytes: Int) {
        guarded = Mutex(Guarded(state: State(maxChunks: maxChunks, maxBytes: maxBytes)))
    }

    /// Waits until a chunk of `bytes` fits; false when the budget was closed.
    func acquire(_ bytes: Int) async -> Bool {
        await withCheckedContinuation { (cont: CheckedContinuation<Bool, Never>) in
            enum Now { case yes, no, wait }
            let now = guarded.withLock { g -> Now in
                if g.state.closed { return .no }
                if g.waiters.isEmpty, g.state.take(bytes) { return .yes }
                g.waiters.append((bytes, cont))
                return .wait
            }
            switch now {
            case .yes: cont.resume(returning: true)
            case .no: cont.resume(returning: false)
            case .wait: break
            }
        }
    }

    /// Returns a chunk of `bytes` to the budget and lets through the waiters that now fit.
    func release(_ bytes: Int) {
        let ready = guarded.withLock { g -> [CheckedContinuation<Bool, Never>] in
            g.state.give(bytes)
            var out: [CheckedContinuation<Bool, Never>] = []
            while let first = g.waiters.first, g.state.take(first.bytes) {
                out.append(first.continuation)
                g.waiters.removeFirst()
            }
            return out
        }
        for c in ready { c.resume(returning: true) }
    }

    /// Refuses every waiter and every later `acquire`.
    func close() {
        let waiting = guarded.withLock { g -> [CheckedContinuation<Bool, Never>] in
            g.state.close()
            let w = g.waiters.map(\.continuation)
            g.waiters = []
            return w
        }
        for c in waiting { c.resume(returning: false) }
    }
}
