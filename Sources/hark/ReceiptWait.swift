import ArgumentParser
import HarkControl
import HarkNode

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

/// The `ReceiptGoal` of `send --wait STATE --of QUORUM`.
func receiptGoal(_ state: WaitState, _ quorum: WaitQuorum) -> ReceiptGoal {
    ReceiptGoal(state: ReceiptGoal.State(rawValue: state.rawValue) ?? .delivered, members: quorum.members)
}

/// Waits in the node (`receipts.wait`, woken by receipt changes) until the state is reached or
/// `timeoutMs` passes. A node that does not serve `receipts.wait` (a daemon of an older hark)
/// is polled with `receipts` instead (`NodeEndpoint.waitForReceipts(client:…)`).
/// - Returns: the last result and whether the state was reached.
/// - Throws: `ControlClient.ClientError` as it comes (the caller maps it to an exit code).
func waitForReceipts(client: ControlClient, group: String, message: String, state: WaitState, quorum: WaitQuorum,
                     timeoutMs: Int64) throws -> (ReceiptsResult, Bool) {
    let r = try NodeEndpoint.waitForReceipts(client: client, group: group, message: message, goal: receiptGoal(state, quorum),
                                             timeoutMs: timeoutMs)
    return (r.receipts, r.reached)
}
