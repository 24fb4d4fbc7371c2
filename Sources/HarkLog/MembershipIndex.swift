import HarkCrypto
import HarkEventProto
import Synchronization

/// What the validator needs to apply the membership rules of a group with roles
/// (PROTOCOL.md §5): the group's rules and conversation kind (from its genesis), the contents of
/// MEMBER events, and a cache of membership states by the set of membership events they fold.
///
/// The index reads nothing itself. It holds the MEMBER contents it was given (`record`); a fold
/// that needs one it lacks answers `.needs` with the IDs, and the caller reads those events (its
/// store, its graph), records them and asks again. The node keeps one index per group and
/// records each MEMBER event's content as it accepts one, so a fold on a running node rarely
/// needs anything. Thread-safe (a mutex guards the caches).
public final class MembershipIndex: Sendable {
    /// `Genesis.rules`: 0 open, 2 roles.
    public let rules: UInt32
    public let conversation: Hark_V1_ConversationKind
    /// `Genesis.history`: what a new member reads of the past (PROTOCOL.md §5.8).
    public let history: Hark_V1_HistoryVisibility
    private let caches = Mutex(Caches())

    /// A membership state, or the MEMBER events whose contents the fold lacks.
    public enum Answer: Sendable, Equatable {
        case membership(Membership)
        /// Record these MEMBER events' contents (`record`; nil for one that cannot be read) and ask again.
        case needs([EventID])
    }

    private struct Caches {
        /// MEMBER event → its decoded content; nil: recorded as unreadable.
        var contents: [EventID: Hark_V1_Member?] = [:]
        var folds: [[EventID]: Membership] = [:]
    }

    public init(rules: UInt32, conversation: Hark_V1_ConversationKind, history: Hark_V1_HistoryVisibility = .joined) {
        self.rules = rules
        self.conversation = conversation
        self.history = history
    }

    /// Whether the group has roles (rules = 2); otherwise membership is open (rules = 0: any key holder may join).
    public var hasRoles: Bool { rules >= 2 }

    /// Remembers the content of a MEMBER event; nil records it as unreadable (folded as a MEMBER
    /// event without content, and never asked for again).
    public func record(_ id: EventID, member: Hark_V1_Member?) {
        caches.withLock { $0.contents[id] = .some(member) }
    }

    /// The recorded content of a MEMBER event, nil if none (or unreadable) was recorded.
    public func member(_ id: EventID) -> Hark_V1_Member? {
        caches.withLock { $0.contents[id] ?? nil }
    }

    /// Whether the content of `id` was recorded (readable or not).
    public func hasRecorded(_ id: EventID) -> Bool {
        caches.withLock { $0.contents[id] != nil }
    }

    /// The membership state folded from `frontier` (membership event IDs, sorted) in `graph`
    /// (the in-memory graph, or any other `CausalHistory` of the same events), or the MEMBER
    /// events of `frontier` held in `graph` whose contents were not recorded. A state that folds
    /// an unreadable MEMBER event is answered but not cached.
    public func membership(frontier: [EventID], in graph: some CausalHistory) -> Answer {
        if let cached = caches.withLock({ $0.folds[frontier] }) { return .membership(cached) }
        var events: [MembershipEvent] = []
        var needs: [EventID] = []
        var complete = true
        events.reserveCapacity(frontier.count)
        for id in frontier {
            guard let e = graph.entry(id) else { continue }
            var member: Hark_V1_Member?
            if e.kind == .member {
                guard let recorded = caches.withLock({ $0.contents[id] }) else {
                    needs.append(id)
                    continue
                }
                member = recorded
                if member == nil { complete = false }
            }
            guard needs.isEmpty else { continue }
            events.append(MembershipEvent(id: id, order: EventOrder(lamport: e.lamport, id: id), author: e.author, kind: e.kind,
                                          member: member, ancestors: Set(graph.membershipAncestors(of: id))))
        }
        guard needs.isEmpty else { return .needs(needs) }
        let state = Membership.fold(events)
        // A MEMBER event whose content could not be read must not fix a wrong state in the cache.
        guard complete else { return .membership(state) }
        caches.withLock {
            if $0.folds.count > 4096 { $0.folds.removeAll() }
            $0.folds[frontier] = state
        }
        return .membership(state)
    }

    /// The current membership of the whole graph (all its membership events), or what it needs.
    public func current(in graph: CausalGraph) -> Answer {
        membership(frontier: graph.membershipEvents(before: graph.heads), in: graph)
    }
}
