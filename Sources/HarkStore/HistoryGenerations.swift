import HarkLog
import Synchronization

/// A counter per group that changes whenever what `StoreHistory` loads of the group may have
/// changed: its rare-kind events (GENESIS, JOIN, EQUIVOCATION_PROOF, MEMBER, PREKEY), the
/// recorded membership ancestry, an author found equivocating, a purged body, or events indexed
/// by a catch-up. A caller that keeps what it loaded under the generation it read before loading
/// knows the copy is current while the generation is unchanged.
///
/// Bumped after the write commits (a rolled-back write may bump it too: that only costs a
/// reload). Counts this store object's writes only; the node is the one writer of its home.
/// Thread-safe (a mutex).
final class HistoryGenerations: Sendable {
    private struct State {
        var all: UInt64 = 0
        var groups: [EventID: UInt64] = [:]
    }

    private let state = Mutex(State())

    /// Changes with every bump of `group` and every `bumpAll`.
    func current(_ group: EventID) -> UInt64 {
        state.withLock { $0.all &+ ($0.groups[group] ?? 0) }
    }

    func bump(_ groups: some Sequence<EventID>) {
        state.withLock { s in for g in groups { s.groups[g, default: 0] &+= 1 } }
    }

    func bumpAll() { state.withLock { $0.all &+= 1 } }
}

extension Store {
    /// The group's history generation (`HistoryGenerations`): equal values mean the group's
    /// membership events, membership ancestry, equivocation flags and indexing are as they were.
    public func historyGeneration(group: EventID) -> UInt64 { historyGenerations.current(group) }
}
