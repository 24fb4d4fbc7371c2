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

    /// How many members `ReceiptGoal` needs: nil for all.
    var members: Int? {
        switch self {
        case .all: return nil
        case .any: return 1
        case let .count(n): return n
        }
    }
}

/// Waits in the node (`receipts.wait`, woken by receipt changes) until the state is reached or
/// `timeoutMs` passes. A node that does not serve `receipts.wait` (a daemon of an older hark)
/// is polled with `receipts` instead.
/// - Returns: the last result and whether the state was reached.
/// - Throws: `ControlClient.ClientError` as it comes (the caller maps it to an exit code, or
///   re-attaches when the connection was lost).
func waitForReceipts(client: ControlClient, group: String, message: String, state: WaitState, quorum: WaitQuorum,
                     timeoutMs: Int64) throws -> (ReceiptsResult, Bool) {
    let goal = ReceiptGoal(state: ReceiptGoal.State(rawValue: state.rawValue) ?? .delivered, members: quorum.members)
    do {
        let r = try client.call(ControlMethods.receiptsWait,
                                ReceiptsWaitParams(group: group, message: message, goal: goal, timeoutMs: max(0, timeoutMs)))
        return (r.receipts, r.reached)
    } catch let ControlClient.ClientError.remote(body) where body.code == .unknownMethod {
        return try pollReceipts(client: client, group: group, message: message, goal: goal, timeoutMs: timeoutMs)
    }
}

/// Polls `receipts` until `goal` is reached or the deadline passes (a node without `receipts.wait`).
func pollReceipts(client: ControlClient, group: String, message: String, goal: ReceiptGoal,
                  timeoutMs: Int64) throws -> (ReceiptsResult, Bool) {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    var pollMs: useconds_t = 20_000
    while true {
        let r = try client.call(ControlMethods.receipts, ReceiptsParams(group: group, message: message))
        if goal.isReached(by: r) { return (r, true) }
        if Date() >= deadline { return (r, false) }
        usleep(pollMs)
        pollMs = min(pollMs * 2, 200_000)
    }
}
