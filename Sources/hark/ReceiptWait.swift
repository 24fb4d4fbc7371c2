import ArgumentParser
import Foundation
import HarkControl
#if canImport(Glibc)
import Glibc
#endif

/// What `send --wait` waits for.
enum WaitState: String, ExpressibleByArgument, CaseIterable {
    case delivered, read, settled
}

/// How many members `send --wait` waits for: all, any (one), or a count.
enum WaitQuorum: Equatable, ExpressibleByArgument {
    case all, any, count(Int)

    init?(argument: String) {
        switch argument {
        case "all": self = .all
        case "any": self = .any
        default:
            guard let n = Int(argument), n >= 1 else { return nil }
            self = .count(n)
        }
    }

    /// Whether `reached` of `members` members satisfies the quorum. A group with no other
    /// member has no one to wait for: satisfied.
    func satisfied(reached: Int, members: Int) -> Bool {
        if members == 0 { return true }
        switch self {
        case .all: return reached >= members
        case .any: return reached >= 1
        case let .count(n): return reached >= n
        }
    }
}

/// Polls `receipts` until the state is reached or the deadline passes.
/// - Returns: the last result and whether the state was reached.
/// - Throws: `ControlClient.ClientError` as it comes (the caller maps it to an exit code, or
///   re-attaches when the connection was lost).
func waitForReceipts(client: ControlClient, group: String, message: String, state: WaitState, quorum: WaitQuorum,
                     timeoutMs: Int64) throws -> (ReceiptsResult, Bool) {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    var pollMs: useconds_t = 20_000
    while true {
        let r = try client.call(ControlMethods.receipts, ReceiptsParams(group: group, message: message))
        let reached: Bool
        switch state {
        case .settled: reached = r.settled
        case .delivered: reached = quorum.satisfied(reached: r.members.filter { $0.state != "pending" }.count, members: r.members.count)
        case .read: reached = quorum.satisfied(reached: r.members.filter { $0.state == "read" }.count, members: r.members.count)
        }
        if reached { return (r, true) }
        if Date() >= deadline { return (r, false) }
        usleep(pollMs)
        pollMs = min(pollMs * 2, 200_000)
    }
}
