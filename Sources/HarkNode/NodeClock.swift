import Foundation

/// The node's time: the wall clock it stamps events and store rows with, the monotonic clock
/// its timers, silences and expiries are measured on, and the sleeps of its timer loops
/// (heartbeats and presence, keepalive and channel probes, epidemic broadcast timers, invite,
/// join request and pairing expiry). Injected with `NodeConfiguration.clock`; `SystemClock`
/// unless a test passes a clock it moves itself.
///
/// Thread-safety: an implementation must be safe to call from any thread and task at once.
public protocol NodeClock: Sendable {
    /// Milliseconds since 1970-01-01 00:00 UTC (event `wall_ms`, store timestamps, invite expiry).
    func wallMs() -> Int64
    /// Milliseconds on a clock that never goes back, from an arbitrary origin (intervals,
    /// deadlines, channel silence).
    func monotonicMs() -> Int64
    /// Returns once `ms` milliseconds of `monotonicMs()` have passed (at once for `ms` ≤ 0).
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    func sleep(ms: Int64) async throws
}

/// The host's clocks: `Date` for wall time, `ContinuousClock` for monotonic time and sleeps.
/// Stateless; thread-safe.
public struct SystemClock: NodeClock {
    public init() {}

    public func wallMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Milliseconds since this process first read the clock.
    public func monotonicMs() -> Int64 {
        let d = ContinuousClock.now - processStart
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    public func sleep(ms: Int64) async throws {
        try await Task.sleep(for: .milliseconds(max(0, ms)))
    }
}

/// The origin of `SystemClock.monotonicMs()`.
private let processStart = ContinuousClock.now
