import HarkControl
import Testing

/// When a wait for receipts is over (`ReceiptGoal`, what `hark send --wait STATE --of N` asks).
@Suite struct ReceiptGoalTests {
    private func receipts(_ states: [String], settled: Bool = false) -> ReceiptsResult {
        ReceiptsResult(message: "m", group: "g", settled: settled, members: states.enumerated().map {
            MemberReceipt(peerId: "p\($0.offset)", displayName: "n", fingerprint: "f", state: $0.element)
        })
    }

    @Test func deliveredCountsReadMembersAndNeedsTheQuorum() {
        let r = receipts(["pending", "delivered", "read"])
        #expect(!ReceiptGoal(state: .delivered).isReached(by: r))
        #expect(ReceiptGoal(state: .delivered, members: 1).isReached(by: r))
        #expect(ReceiptGoal(state: .delivered, members: 2).isReached(by: r))
        #expect(!ReceiptGoal(state: .delivered, members: 3).isReached(by: r))
        #expect(ReceiptGoal(state: .delivered).isReached(by: receipts(["delivered", "read"])))
    }

    @Test func readCountsOnlyReadMembers() {
        let r = receipts(["delivered", "read"])
        #expect(ReceiptGoal(state: .read, members: 1).isReached(by: r))
        #expect(!ReceiptGoal(state: .read).isReached(by: r))
    }

    @Test func settledIgnoresTheQuorumAndNoOtherMemberMeetsAnyGoal() {
        #expect(ReceiptGoal(state: .settled).isReached(by: receipts(["pending"], settled: true)))
        #expect(!ReceiptGoal(state: .settled, members: 1).isReached(by: receipts(["read"], settled: false)))
        for state in ReceiptGoal.State.allCases where state != .settled {
            #expect(ReceiptGoal(state: state, members: 3).isReached(by: receipts([])))
        }
    }

    @Test func theParamsAreSnakeCaseOnTheWire() throws {
        let line = try ControlCoding.encodeLine(Request(id: 1, method: ControlMethods.receiptsWait.name, params: ReceiptsWaitParams(
            group: "g", message: "m", goal: ReceiptGoal(state: .read, members: 2), timeoutMs: 500)))
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("\"timeout_ms\":500"))
        #expect(text.contains("\"goal\":{"))
        #expect(text.contains("\"state\":\"read\""))
    }
}
