import HarkCrypto
import HarkEventProto
import Synchronization

/// What the validator needs to apply the membership rules of a group with roles
/// (PROTOCOL.md §5): the group's rules and conversation kind (from its genesis), a way to read
/// MEMBER contents, and a cache of membership states by the set of membership events they fold.
///
/// The node keeps one per group; `memberContent` reads and decrypts a stored MEMBER event.
/// Thread-safe (a mutex guards the caches).
public final class MembershipIndex: Sendable {
    /// `Genesis.rules`: 0 open, 2 roles.
    public let rules: UInt32
    public let conversation: Hark_V1_ConversationKind
    /// `Genesis.history`: what a new member reads of the past (PROTOCOL.md §5.8).
    public let history: Hark_V1_HistoryVisibility
    private let memberContent: @Sendable (EventID) -> Hark_V1_Member?
    private let caches = Mutex(Caches())

    private struct Caches {
        var contents: [EventID: Hark_V1_Member] = [:]
        var folds: [[EventID]: Membership] = [:]
    }

    /// - Parameter memberContent: the decoded `Member` of a held MEMBER event, nil if unreadable.
    public init(rules: UInt32, conversation: Hark_V1_ConversationKind, history: Hark_V1_HistoryVisibility = .joined,
                memberContent: @escaping @Sendable (EventID) -> Hark_V1_Member?) {
        self.rules = rules
        self.conversation = conversation
        self.history = history
        self.memberContent = memberContent
    }

    /// Whether the group has roles (rules = 2); otherwise membership is open (rules = 0: any key holder may join).
    public var hasRoles: Bool { rules >= 2 }

    /// Remembers the content of a MEMBER event (the node calls it as it stores one, sparing a read).
    public func record(_ id: EventID, member: Hark_V1_Member) {
        caches.withLock { $0.contents[id] = member }
    }

    /// The membership state folded from `frontier` (membership event IDs, sorted) in `graph`
    /// (the in-memory graph, or any other `CausalHistory` of the same events).
    public func membership(frontier: [EventID], in graph: some CausalHistory) -> Membership {
        if let cached = caches.withLock({ $0.folds[frontier] }) { return cached }
        var events: [MembershipEvent] = []
        var complete = true
        events.reserveCapacity(frontier.count)
        for id in frontier {
            guard let e = graph.entry(id) else { continue }
            var member: Hark_V1_Member?
            if e.kind == .member {
                member = caches.withLock { $0.contents[id] } ?? memberContent(id)
                if let member { caches.withLock { $0.contents[id] = member } } else { complete = false }
            }
            events.append(MembershipEvent(id: id, order: EventOrder(lamport: e.lamport, id: id), author: e.author, kind: e.kind,
                                          member: member, ancestors: Set(graph.membershipAncestors(of: id))))
        }
        let state = Membership.fold(events)
        // A MEMBER event whose content could not be read yet must not fix a wrong state in the cache.
        guard complete else { return state }
        caches.withLock {
            if $0.folds.count > 4096 { $0.folds.removeAll() }
            $0.folds[frontier] = state
        }
        return state
    }

    /// The content of a MEMBER event (cached), nil if unreadable.
    public func member(_ id: EventID) -> Hark_V1_Member? {
        if let m = caches.withLock({ $0.contents[id] }) { return m }
        let m = memberContent(id)
        if let m { caches.withLock { $0.contents[id] = m } }
        return m
    }

    /// The current membership of the whole graph (all its membership events).
    public func current(in graph: CausalGraph) -> Membership {
        membership(frontier: graph.membershipEvents(before: graph.heads), in: graph)
    }
}
