import Synchronization

/// The tasks serving a listener's accepted connections, started from the child channel's
/// initializer the moment each connection is set up.
///
/// Why not iterate the listener's `NIOAsyncChannel` inbound stream: when that listener closes
/// while children are still being set up, or its consumer stops, the stream drops the accepted
/// `NIOAsyncChannel`s it holds; one never run by `executeThenClose` traps the process in
/// `NIOAsyncWriter.deinit` (swift-nio issue 2813). Here every accepted connection gets a task of
/// its own at once, and that task always runs it to its close, even after `closeAndWait()`
/// (then already cancelled, so it closes at once).
///
/// Thread-safety: all methods may be called from any thread or event loop.
final class AcceptedConnections: Sendable {
    private struct State {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextID: UInt64 = 0
        var closing = false
    }

    private let state = Mutex(State())

    init() {}

    /// Starts `serve` in a task of its own, tracked until it returns. After `closeAndWait()` has
    /// begun, the task starts cancelled: `serve` must then close its connection and return.
    func start(_ serve: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            // Created under the lock: the task's own removal waits for its insertion.
            let task = Task {
                await serve()
                self.finished(id)
            }
            state.tasks[id] = task
            if state.closing { task.cancel() }
        }
    }

    /// Connections being served now.
    var count: Int { state.withLock { $0.tasks.count } }

    /// Cancels every task serving a connection and waits until all have returned, including
    /// those started meanwhile (by children still being set up when the listener closed).
    /// Returns once no task is left; call it after the listener is closed.
    func closeAndWait() async {
        let first = state.withLock { state in
            state.closing = true
            return Array(state.tasks.values)
        }
        for task in first { task.cancel() }
        // Bounded: the listener is closed, so at most the children already accepted start here.
        while let next = state.withLock({ $0.tasks.values.first }) {
            next.cancel()
            await next.value
        }
    }

    private func finished(_ id: UInt64) {
        _ = state.withLock { $0.tasks.removeValue(forKey: id) }
    }
}
