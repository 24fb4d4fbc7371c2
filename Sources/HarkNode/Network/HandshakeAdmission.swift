/// Which inbound connections may start a handshake (SECURITY.md "Resource limits"): a pure
/// state machine, no I/O, time passed in (ms, any monotonic or wall clock, as long as the same
/// one is used throughout).
///
/// A connection holds a ``Ticket`` from ``admit(source:nowMs:)`` until it is authenticated or
/// closed (``release(_:)``), at most until its deadline (`admittedMs + handshakeTimeoutMs`).
/// - At most ``Limits/maxPendingPerSource`` pending connections per source (an IPv4 address or
///   an IPv6 /64): one more from that source is refused.
/// - At most ``Limits/maxPending`` pending connections in all: one more (from a source under its
///   own limit) is admitted and the OLDEST pending connection is evicted. A real peer finishes
///   its handshake within a round trip or two (milliseconds on a LAN), so a flood of
///   connections that never finish evicts its own members first and cannot starve real peers.
/// - A ticket past its deadline no longer counts (its connection is closed by its own timer).
///
/// Value type; `Sendable`; use from one task at a time (the node keeps it under a lock).
public struct HandshakeAdmission: Sendable {
    /// The limits. Defaults: 64 pending in all, 8 per source, a 10 000 ms handshake deadline.
    public struct Limits: Sendable, Equatable {
        /// Most unauthenticated connections at once, all sources together.
        public var maxPending: Int
        /// Most unauthenticated connections at once from one source.
        public var maxPendingPerSource: Int
        /// Time an inbound connection has to complete the Noise handshake, ms.
        public var handshakeTimeoutMs: Int64

        public init(maxPending: Int = 64, maxPendingPerSource: Int = 8, handshakeTimeoutMs: Int64 = 10_000) {
            self.maxPending = max(1, maxPending)
            self.maxPendingPerSource = max(1, min(maxPendingPerSource, self.maxPending))
            self.handshakeTimeoutMs = max(1, handshakeTimeoutMs)
        }
    }

    /// One admitted, still unauthenticated connection.
    public struct Ticket: Sendable, Hashable {
        /// Unique per admission, increasing: a smaller ID was admitted earlier.
        public let id: UInt64
        public let source: String
        public let admittedMs: Int64
        /// When the handshake must be complete, ms (same clock as `admittedMs`).
        public let deadlineMs: Int64
    }

    public enum Decision: Sendable, Equatable {
        /// Go ahead; close `evicting` (the oldest pending connection) if given.
        case admit(Ticket, evicting: Ticket?)
        /// Close the new connection at once: its source already has `limit` pending.
        case refuse(source: String, limit: Int)
    }

    public let limits: Limits
    private var pending: [UInt64: Ticket] = [:]
    private var countBySource: [String: Int] = [:]
    private var nextID: UInt64 = 1

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Pending connections now (after the last call; expired ones drop out on the next `admit`).
    public var pendingCount: Int { pending.count }

    /// Pending connections from `source`.
    public func pendingCount(source: String) -> Int { countBySource[source, default: 0] }

    /// Decides about a new inbound connection from `source` at `nowMs`.
    public mutating func admit(source: String, nowMs: Int64) -> Decision {
        for ticket in pending.values where ticket.deadlineMs <= nowMs { release(ticket) }
        guard countBySource[source, default: 0] < limits.maxPendingPerSource else {
            return .refuse(source: source, limit: limits.maxPendingPerSource)
        }
        var evicted: Ticket?
        if pending.count >= limits.maxPending, let oldest = pending.values.min(by: { $0.id < $1.id }) {
            release(oldest)
            evicted = oldest
        }
        let ticket = Ticket(id: nextID, source: source, admittedMs: nowMs, deadlineMs: nowMs + limits.handshakeTimeoutMs)
        nextID += 1
        pending[ticket.id] = ticket
        countBySource[source, default: 0] += 1
        return .admit(ticket, evicting: evicted)
    }

    /// The connection of `ticket` was authenticated or closed. Releasing twice is harmless.
    public mutating func release(_ ticket: Ticket) {
        guard pending.removeValue(forKey: ticket.id) != nil else { return }
        let left = countBySource[ticket.source, default: 1] - 1
        countBySource[ticket.source] = left > 0 ? left : nil
    }
}
