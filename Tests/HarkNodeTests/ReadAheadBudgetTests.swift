import Synchronization
import Testing
@testable import HarkNode

@Suite struct ReadAheadBudgetTests {
    @Test func chunksAreBoundedByCountAndBytesButOneAlwaysFits() {
        var s = ReadAheadBudget.State(maxChunks: 3, maxBytes: 16 << 20)
        let three = [s.take(1 << 20), s.take(1 << 20), s.take(1 << 20)]
        #expect(three == [true, true, true])
        let fourth = s.take(1 << 20)
        #expect(!fourth, "a fourth chunk waits")
        s.give(1 << 20)
        let again = s.take(1 << 20)
        #expect(again)
        #expect(s.chunks == 3 && s.bytes == 3 << 20)

        var big = ReadAheadBudget.State(maxChunks: 3, maxBytes: 16 << 20)
        let alone = big.take(64 << 20)
        #expect(alone, "a chunk larger than the byte bound is prepared alone")
        let beside = big.take(64 << 10)
        #expect(!beside, "nothing beside it")
        big.give(64 << 20)
        let two = [big.take(8 << 20), big.take(8 << 20)]
        #expect(two == [true, true])
        let over = big.take(1)
        #expect(!over, "16 MiB is the byte bound")
        big.close()
        big.give(8 << 20)
        let afterClose = big.take(1)
        #expect(!afterClose, "nothing after close")
    }

    @Test func waitersGoThroughInOrderAndCloseReleasesThem() async {
        let budget = ReadAheadBudget(maxChunks: 1, maxBytes: 100)
        #expect(await budget.acquire(10))
        let order = Mutex<[Int]>([])
        let second = Task {
            let ok = await budget.acquire(10)
            order.withLock { $0.append(2) }
            return ok
        }
        // Bounded wait (at most 0.5 s) for the second acquire to be parked.
        for _ in 0..<50 where order.withLock({ $0.isEmpty }) { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(order.withLock { $0.isEmpty }, "the second chunk waits while the first is held")
        budget.release(10)
        #expect(await second.value)
        let third = Task { await budget.acquire(10) }
        budget.close()
        #expect(await third.value == false, "close lets a waiter through with false")
        #expect(await budget.acquire(1) == false)
    }
}
