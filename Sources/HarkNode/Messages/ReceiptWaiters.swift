import HarkControl
import HarkLog

/// Tasks waiting for receipts of a message to change (`Node.waitForReceipts`), by group.
/// Woken when what receipts derive from changes there: heads a peer reported, events delivered.
/// Held in `ReceiptTracking`; isolated to the node's actor.
struct ReceiptWaiters {
    private var nextID: UInt64 = 0
    private var waiting: [UInt64: (group: EventID, continuation: CheckedContinuation<Void, Never>)] = [:]

    /// A new waiter's ID (`park` it next).
    mutating func newID() -> UInt64 {
        nextID += 1
        return nextID
    }

    mutating func park(_ id: UInt64, group: EventID, _ continuation: CheckedContinuation<Void, Never>) {
        waiting[id] = (group, continuation)
    }

    /// Removes the waiters on `group` and returns them, to be resumed.
    mutating func take(group: EventID) -> [CheckedContinuation<Void, Never>] {
        guard !waiting.isEmpty else { return [] }
        let ids = waiting.filter { $0.value.group == group }.map(\.key)
        return ids.compactMap { waiting.removeValue(forKey: $0)?.continuation }
    }

    /// Removes waiter `id` (its timeout passed or its task was cancelled), if it still waits.
    mutating func take(id: UInt64) -> CheckedContinuation<Void, Never>? {
        waiting.removeValue(forKey: id)?.continuation
    }
}

extension Node {
    /// Waits until the receipts of `message` in `group` meet `goal`, or `timeoutMs` passes on
    /// the node's clock. Woken by receipt changes (reported heads, delivered events), never
    /// polling.
    /// - Returns: the receipts, and whether the goal was met (false: the timeout passed first).
    /// - Throws: `ControlErrorBody` (`not_found`, `invalid_argument`) for an unknown group or
    ///   message; store errors; `CancellationError` when the calling task is cancelled.
    public func waitForReceipts(group ref: String, message: String, goal: ReceiptGoal,
                                timeoutMs: Int64) async throws -> ReceiptsWaitResult {
        let g = try resolveGroup(ref)
        let target = try resolveMessage(message, in: g).id
        let deadline = clock.monotonicMs() + max(0, timeoutMs)
        while true {
            let r = try receipts(group: g.id.hex, message: target.hex)
            if goal.isReached(by: r) { return ReceiptsWaitResult(reached: true, receipts: r) }
            let left = deadline - clock.monotonicMs()
            if left <= 0 { return ReceiptsWaitResult(reached: false, receipts: r) }
            try Task.checkCancellation()
            let id = receiptTracking.waiters.newID()
            let timer = Task { [clock] in
                try await clock.sleep(ms: left)
                self.wakeReceiptWaiter(id)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    receiptTracking.waiters.park(id, group: g.id, c)
                }
            } onCancel: {
                Task { await self.wakeReceiptWaiter(id) }
            }
            timer.cancel()
            try Task.checkCancellation()
        }
    }

    /// Resumes waiter `id` if it still waits.
    func wakeReceiptWaiter(_ id: UInt64) {
        receiptTracking.waiters.take(id: id)?.resume()
    }

    /// Receipts in `group` may have changed: every waiter there looks again.
    func wakeReceiptWaiters(group: EventID) {
        for c in receiptTracking.waiters.take(group: group) { c.resume() }
    }
}
