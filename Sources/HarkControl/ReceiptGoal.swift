/// What a wait for receipts waits for (`hark send --wait STATE --of N`, `receipts.wait`):
/// a receipt state and how many members must reach it. Value type; thread-safe.
public struct ReceiptGoal: Codable, Sendable, Equatable {
    /// The receipt state waited for.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// The member's node holds the message (a read one counts too).
        case delivered
        /// The member's read marker passed the message.
        case read
        /// The message is in the settled prefix of the total order (PROTOCOL.md §4.7); no quorum.
        case settled
    }

    public var state: State
    /// Members (other than the author) that must reach `state`: nil for all of them, 1 for any.
    /// Not used for `settled`.
    public var members: Int?

    public init(state: State, members: Int? = nil) {
        self.state = state
        self.members = members
    }

    /// Whether `receipts` meets this goal. A group with no other member has no one to wait
    /// for: met.
    public func isReached(by receipts: ReceiptsResult) -> Bool {
        let reached: Int
        switch state {
        case .settled: return receipts.settled
        case .delivered: reached = receipts.members.count { $0.state != "pending" }
        case .read: reached = receipts.members.count { $0.state == "read" }
        }
        if receipts.members.isEmpty { return true }
        return reached >= (members ?? receipts.members.count)
    }
}

/// `receipts.wait` params: `receipts` params, the goal, and how long to wait for it.
public struct ReceiptsWaitParams: Codable, Sendable {
    public var group: String
    /// Message ID, full hex or a unique prefix (≥ 8 hex digits).
    public var message: String
    public var goal: ReceiptGoal
    /// How long the node waits for the goal, ms (0: answers at once).
    public var timeoutMs: Int64
    public init(group: String, message: String, goal: ReceiptGoal, timeoutMs: Int64) {
        self.group = group; self.message = message; self.goal = goal; self.timeoutMs = timeoutMs
    }
}

/// `receipts.wait` result: the receipts when the goal was met or the time was up.
public struct ReceiptsWaitResult: Codable, Sendable, Equatable {
    /// Whether the goal was met (false: the timeout passed first).
    public var reached: Bool
    public var receipts: ReceiptsResult
    public init(reached: Bool, receipts: ReceiptsResult) { self.reached = reached; self.receipts = receipts }
}
