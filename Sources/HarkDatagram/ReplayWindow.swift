/// RFC 6479 anti-replay window ("IPsec Anti-Replay Algorithm without Bit Shifting"), laid out
/// like wireguard-go's `replay/replay.go`: a ring of 128 blocks of 64 bits, indexed by counter,
/// so advancing the window clears whole blocks instead of shifting. Counters up to
/// ``windowSize`` (8128 = 127 × 64) below the highest accepted counter are remembered.
///
/// Checking (``check(_:)``) and recording (``record(_:)``) are separate so that a packet is
/// authenticated between the two: a forged packet must never move the window.
/// Value type, `Sendable`; about 1 KiB.
public struct ReplayWindow: Sendable, Equatable {
    private static let blockBitLog = 6
    private static let blockBits: UInt64 = 1 << 6
    private static let ringBlocks: UInt64 = 1 << 7
    private static let blockMask = ringBlocks - 1
    private static let bitMask = blockBits - 1
    /// (128 − 1) × 64 = 8128.
    public static let windowSize: UInt64 = (ringBlocks - 1) * blockBits

    /// What ``check(_:)`` says about a counter.
    public enum Verdict: Sendable, Equatable {
        /// Never seen and inside (or ahead of) the window.
        case fresh
        /// Already recorded.
        case replayed
        /// More than ``ReplayWindow/windowSize`` below the highest recorded counter.
        case tooOld
    }

    /// The highest recorded counter (0 before anything was recorded).
    public private(set) var highest: UInt64 = 0
    private var ring = [UInt64](repeating: 0, count: Int(ringBlocks))

    public init() {}

    /// Whether `counter` would be accepted. Does not change the window.
    public func check(_ counter: UInt64) -> Verdict {
        if counter > highest { return .fresh }
        if highest - counter > Self.windowSize { return .tooOld }
        let block = Int((counter >> UInt64(Self.blockBitLog)) & Self.blockMask)
        let bit: UInt64 = 1 << (counter & Self.bitMask)
        return ring[block] & bit == 0 ? .fresh : .replayed
    }

    /// Records `counter` (call only after the packet authenticated) and returns the verdict it
    /// had before: the window changes only when that is `.fresh`.
    @discardableResult
    public mutating func record(_ counter: UInt64) -> Verdict {
        let verdict = check(counter)
        guard verdict == .fresh else { return verdict }
        let indexBlock = counter >> UInt64(Self.blockBitLog)
        if counter > highest {
            // Move the window forward: clear the blocks between the old and the new top block
            // (all of them, at most, when the jump is larger than the ring).
            let current = highest >> UInt64(Self.blockBitLog)
            let diff = min(indexBlock - current, Self.ringBlocks)
            var i: UInt64 = 1
            while i <= diff {
                ring[Int((current &+ i) & Self.blockMask)] = 0
                i += 1
            }
            highest = counter
        }
        ring[Int(indexBlock & Self.blockMask)] |= 1 << (counter & Self.bitMask)
        return .fresh
    }
}
