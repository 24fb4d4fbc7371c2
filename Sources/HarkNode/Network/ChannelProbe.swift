/// The liveness probe of one channel (PROTOCOL.md §3.2, "Probe"): when the peer's address may
/// have changed (discovery reports an address the channel does not use, or a second channel
/// from the same device arrives from another address), a `Ping` that must be answered within
/// `answerWithinMs` decides at once whether the channel still works, instead of waiting for the
/// 15 s idle timeout.
///
/// Nonces: 0 is a plain keepalive (never answered). A nonce with bit 63 clear and not 0 asks for
/// an answer; the answer is a `Ping` with the same nonce and bit 63 set (`echo(of:)`), which is
/// never answered itself, so two peers cannot ping-pong.
///
/// Pure state machine: times are milliseconds passed in. Value type; not thread-safe by itself
/// (`PeerSession` keeps it under a lock).
struct ChannelProbe: Equatable {
    /// How long a probe waits for its answer, ms.
    static let answerWithinMs: Int64 = 1_000
    static let echoBit: UInt64 = 1 << 63

    /// The probe in flight: its nonce and when it was sent.
    private(set) var pending: (nonce: UInt64, sentMs: Int64)?
    /// Probes answered on this channel (for logs and tests).
    private(set) var answered = 0

    static func == (a: ChannelProbe, b: ChannelProbe) -> Bool {
        a.pending?.nonce == b.pending?.nonce && a.pending?.sentMs == b.pending?.sentMs && a.answered == b.answered
    }

    /// True for a nonce that asks for an answer.
    static func isRequest(_ nonce: UInt64) -> Bool { nonce != 0 && nonce & echoBit == 0 }
    /// True for a nonce that answers a request.
    static func isEcho(_ nonce: UInt64) -> Bool { nonce & echoBit != 0 }
    /// The answer's nonce for request `nonce`.
    static func echo(of nonce: UInt64) -> UInt64 { nonce | echoBit }

    /// Starts a probe at `nowMs` with `random` (any 64 bits: bit 63 is cleared, 0 becomes 1).
    /// - Returns: the nonce to send, or nil when a probe is already in flight (it decides).
    mutating func start(nowMs: Int64, random: UInt64) -> UInt64? {
        guard pending == nil else { return nil }
        var nonce = random & ~Self.echoBit
        if nonce == 0 { nonce = 1 }
        pending = (nonce, nowMs)
        return nonce
    }

    /// An answer with `nonce` arrived. Returns true when it answers the probe in flight (which
    /// then ends: the channel works).
    mutating func received(echo nonce: UInt64) -> Bool {
        guard let p = pending, Self.isEcho(nonce), nonce & ~Self.echoBit == p.nonce else { return false }
        pending = nil
        answered += 1
        return true
    }

    /// What the probe says at `nowMs`.
    enum Verdict: Equatable {
        /// No probe in flight.
        case idle
        /// In flight, still within its time.
        case waiting
        /// Unanswered for `answerWithinMs`: the channel is dead.
        case dead
    }

    func verdict(nowMs: Int64) -> Verdict {
        guard let p = pending else { return .idle }
        return nowMs - p.sentMs >= Self.answerWithinMs ? .dead : .waiting
    }
}
