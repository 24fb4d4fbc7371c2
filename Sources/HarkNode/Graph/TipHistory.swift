import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore

/// A group's delivered events as the history before an event whose parents include every
/// current head of the group, answered from the store: each stored event of the group is then
/// an ancestor of the new event, so "is X among its ancestors" is "does the group hold X", and
/// its membership events are all of the group's. Every event this node writes itself is such an
/// event (`Node.author` takes all heads as parents), so writing one needs neither the whole
/// history in memory nor a walk of it.
///
/// Answers as the group's `CausalGraph` would for such an event (PROTOCOL.md §4.3, §5). Loading
/// costs one index range over the group's membership, proof and prekey events; each look-up
/// then costs one or two index reads. Value type; reads the store (thread-safe).
struct TipHistory: CausalHistory {
    let store: Store
    let group: EventID
    /// Every membership event (GENESIS, JOIN, MEMBER) of the group, sorted by ID.
    let membership: [EventID]
    /// Per membership event: the membership events among its strict ancestors.
    let ancestry: [EventID: [EventID]]
    /// Per accused author: the valid EQUIVOCATION_PROOF events against them.
    let proofs: [SigningPublicKey: [EventID]]
    /// The group's MEMBER and PREKEY events, in total order (for prekey views).
    let keyEvents: [Event]

    /// Reads the group's rare-kind events and recorded membership ancestry.
    /// - Returns: nil when a membership event's ancestry was never recorded (a store written by
    ///   an earlier release): the caller fills it from the graph once (`Node.recordMembershipAncestry`).
    /// - Throws: `StoreError`.
    static func load(store: Store, group: EventID) throws -> TipHistory? {
        let rare = try store.rareKindEvents(group: group)
        let ancestry = try store.membershipAncestors(group: group)
        var membership: [EventID] = []
        var proofs: [SigningPublicKey: [EventID]] = [:]
        var keyEvents: [Event] = []
        for e in rare {
            if CausalGraph.isMembershipKind(e.kind) {
                guard ancestry[e.id] != nil else { return nil }
                membership.append(e.id)
            }
            if e.kind == .equivocationProof, let accusation = try? EquivocationProof.accusation(in: e) {
                proofs[accusation.author, default: []].append(e.id)
            }
            if e.kind == .member || e.kind == .prekey { keyEvents.append(e) }
        }
        return TipHistory(store: store, group: group, membership: membership.sorted(), ancestry: ancestry,
                          proofs: proofs, keyEvents: keyEvents)
    }

    func contains(_ id: EventID) -> Bool { entry(id) != nil }

    func entry(_ id: EventID) -> CausalGraph.Entry? {
        guard let row = (try? store.graphRow(id, group: group)) ?? nil else { return nil }
        return CausalGraph.Entry(id: id, parents: row.parents, lamport: row.lamport, author: row.author, seq: row.seq,
                                 kind: Hark_V1_EventKind(rawValue: row.kind) ?? .unspecified)
    }

    /// Every held event is an ancestor of an event on top of all heads.
    func isAncestorOrSelf(_ ancestor: EventID, of ids: [EventID]) -> Bool {
        ids.contains(ancestor) || contains(ancestor)
    }

    func equivocationProofs(against author: SigningPublicKey) -> [EventID] { proofs[author] ?? [] }

    /// All the group's membership events (`ids` are all heads, so every event is before them).
    func membershipEvents(before ids: [EventID]) -> [EventID] { membership }

    func membershipAncestors(of id: EventID) -> [EventID] { ancestry[id] ?? [] }
}

/// A `GroupContext` for an event written on top of every current head (see `TipHistory`).
struct TipContext: GroupContext {
    let history: TipHistory
    let groupKey: [UInt8]
    let membershipIndex: MembershipIndex?

    func content(of event: Event) throws(EventError) -> Hark_V1_Content {
        try BodyCipher.open(event, groupKey: groupKey)
    }
}
