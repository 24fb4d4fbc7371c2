import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore

/// A group's delivered events for validating a few arriving events without the group's
/// `CausalGraph` in memory: the stored events (read through the store's version vectors,
/// docs/HISTORY.md §"Receipts") plus the events accepted earlier in the same delivery and not
/// stored yet (`accepted`). Answers as the graph would (PROTOCOL.md §4.3, §5) as long as no
/// author of the group forked: `load` returns nil otherwise, and the node validates against the
/// graph instead.
///
/// Serves bulk intake too (a new member's first sync): the membership events before an
/// accepted event are kept per accepted event as it is added (`Reach`, shared along a chain), so
/// a membership question costs O(parents) plus one store look-up per distinct set of stored
/// events the delivery starts from, not a walk over the delivery.
///
/// Cost: a few index reads per question, O(authors) for an ancestry question; memory O(accepted
/// + the group's rare-kind events). Value type; reads the store (thread-safe); one delivery.
struct StoreHistory: CausalHistory {
    let store: Store
    let group: EventID
    /// Per accused author: the valid EQUIVOCATION_PROOF events against them.
    let proofs: [SigningPublicKey: [EventID]]
    /// The group's stored membership events (GENESIS, JOIN, MEMBER).
    let membership: [Event]
    /// Per stored membership event whose ancestry was recorded: the membership events among its
    /// strict ancestors.
    let ancestry: [EventID: [EventID]]
    /// Events accepted in this delivery, not stored yet.
    private(set) var accepted: [EventID: Event] = [:]
    /// Per accepted event: what lies before it, ancestors-or-self (see `Reach`).
    private var reach: [EventID: Reach] = [:]
    /// Membership events known to each stored event (`membershipEvents`), kept with the base.
    private let storedMembership: KnownMembership

    /// The ancestors-or-self of an accepted event, summarised: the membership events among the
    /// accepted ones, and the stored events where its ancestry leaves the delivery. Along a chain
    /// both sets are the parent's (copy-on-write: not copied).
    private struct Reach {
        var membership: Set<EventID> = []
        var stored: Set<EventID> = []
    }

    /// What `load` reads of the group before any event of a delivery: its equivocation proofs,
    /// membership events and recorded membership ancestry. O(members) events; immutable.
    struct Base: Sendable {
        let proofs: [SigningPublicKey: [EventID]]
        let membership: [Event]
        let ancestry: [EventID: [EventID]]
    }

    /// Bases kept per group under the store's history generation (`Store.historyGeneration`);
    /// nil: the store cannot answer for that group (see `load`). Owned by one node (its actor).
    typealias Bases = [EventID: (generation: UInt64, base: Base?, known: KnownMembership)]

    /// Nil when the store cannot answer exactly: an author of the group equivocated, or events
    /// are not indexed yet. - Throws: `StoreError`.
    static func load(store: Store, group: EventID) throws -> StoreHistory? {
        var none: Bases = [:]
        return try load(store: store, group: group, bases: &none)
    }

    /// As `load(store:group:)`, reusing the base kept in `bases` while the group's history
    /// generation is unchanged (a live event then reads nothing here), else reading it again and
    /// keeping it. The generation is read before the base, so a change while reading it shows as
    /// a newer generation on the next call. - Throws: `StoreError`.
    static func load(store: Store, group: EventID, bases: inout Bases) throws -> StoreHistory? {
        let generation = store.historyGeneration(group: group)
        let base: Base?
        let known: KnownMembership
        if let kept = bases[group], kept.generation == generation {
            (base, known) = (kept.base, kept.known)
        } else {
            (base, known) = (try readBase(store: store, group: group), KnownMembership())
            bases[group] = (generation, base, known)
        }
        guard let base else { return nil }
        return StoreHistory(store: store, group: group, proofs: base.proofs, membership: base.membership, ancestry: base.ancestry,
                            storedMembership: known)
    }

    private static func readBase(store: Store, group: EventID) throws -> Base? {
        guard try store.syncFrontier(group: group, knownBy: []) != nil else { return nil }
        var proofs: [SigningPublicKey: [EventID]] = [:]
        var membership: [Event] = []
        for e in try store.rareKindEvents(group: group) {
            if CausalGraph.isMembershipKind(e.kind) { membership.append(e) }
            if e.kind == .equivocationProof, let accusation = try? EquivocationProof.accusation(in: e) {
                proofs[accusation.author, default: []].append(e.id)
            }
        }
        return Base(proofs: proofs, membership: membership, ancestry: try store.membershipAncestors(group: group))
    }

    /// Adds an event accepted in this delivery (validated; stored later in one transaction).
    mutating func add(_ event: Event) {
        accepted[event.id] = event
        var r = Reach()
        var first = true
        for p in event.allParents {
            if let pr = reach[p] {
                if first {
                    r = pr
                } else {
                    r.membership.formUnion(pr.membership)
                    r.stored.formUnion(pr.stored)
                }
            } else {
                r.stored.insert(p)
            }
            first = false
        }
        if CausalGraph.isMembershipKind(event.kind) { r.membership.insert(event.id) }
        reach[event.id] = r
    }

    func contains(_ id: EventID) -> Bool {
        accepted[id] != nil || ((try? store.graphRow(id, group: group)) ?? nil) != nil
    }

    func entry(_ id: EventID) -> CausalGraph.Entry? {
        if let e = accepted[id] {
            return CausalGraph.Entry(id: id, parents: e.allParents, lamport: e.lamport, author: e.author, seq: e.seq, kind: e.kind)
        }
        guard let row = (try? store.graphRow(id, group: group)) ?? nil else { return nil }
        return CausalGraph.Entry(id: id, parents: row.parents, lamport: row.lamport, author: row.author, seq: row.seq,
                                 kind: Hark_V1_EventKind(rawValue: row.kind) ?? .unspecified)
    }

    /// The accepted events among `ids` and their ancestors, and the stored events where that
    /// walk leaves the accepted ones.
    private func split(_ ids: [EventID]) -> (accepted: Set<EventID>, stored: [EventID]) {
        var seen: Set<EventID> = []
        var stored: [EventID] = []
        var stack = ids
        while let x = stack.popLast() {
            guard seen.insert(x).inserted else { continue }
            if let e = accepted[x] { stack.append(contentsOf: e.allParents) } else { stored.append(x) }
        }
        return (seen.subtracting(stored), stored)
    }

    func isAncestorOrSelf(_ ancestor: EventID, of ids: [EventID]) -> Bool {
        let (inDelivery, stored) = split(ids)
        if inDelivery.contains(ancestor) || stored.contains(ancestor) { return true }
        guard accepted[ancestor] == nil, let a = entry(ancestor),
              let frontier = (try? store.syncFrontier(group: group, knownBy: stored)) ?? nil else { return false }
        return frontier.isKnown(author: a.author, seq: a.seq)
    }

    func equivocationProofs(against author: SigningPublicKey) -> [EventID] { proofs[author] ?? [] }

    func membershipEvents(before ids: [EventID]) -> [EventID] {
        var out: Set<EventID> = []
        var stored: Set<EventID> = []
        for id in ids {
            if let r = reach[id] {
                out.formUnion(r.membership)
                stored.formUnion(r.stored)
            } else {
                stored.insert(id)
            }
        }
        // The ancestors of a set are the union of each one's: one look-up per stored event not
        // seen before (a live event's parents were usually accepted in an earlier delivery).
        for id in stored {
            out.formUnion(storedMembership.value(id) {
                // nil (not kept) when the store cannot tell: a failed read is no answer.
                guard let frontier = (try? store.syncFrontier(group: group, knownBy: [id])) ?? nil else { return nil }
                return membership.filter { frontier.isKnown(author: $0.author, seq: $0.seq) }.map(\.id)
            } ?? [])
        }
        return out.sorted()
    }

    /// Records, for each of `events` accepted in this delivery and now stored, the membership
    /// events it knows (`KnownMembership`), so a later delivery whose events name them as
    /// parents looks nothing up.
    func rememberStored(_ events: [Event]) {
        for e in events where accepted[e.id] != nil { storedMembership.put(e.id, membershipEvents(before: [e.id])) }
    }

    func membershipAncestors(of id: EventID) -> [EventID] {
        if accepted[id] == nil, let recorded = ancestry[id] { return recorded }
        return membershipEvents(before: entry(id)?.parents ?? [])
    }
}

/// Per stored event: the group's membership events among its ancestors-or-self
/// (`StoreHistory.membershipEvents`). A stored event's ancestors never change (they were all
/// stored before it), so an entry stays true; the node keeps one per group with the group's
/// `StoreHistory.Base`, while the history generation holds. At most `limit` events (then it
/// starts over; about 100 bytes an entry plus 32 per membership event). Not thread-safe: the
/// node's actor.
final class KnownMembership {
    static let limit = 8_192
    private var entries: [EventID: [EventID]] = [:]

    /// The entry of `id`, or `compute`'s answer, kept unless nil.
    func value(_ id: EventID, _ compute: () -> [EventID]?) -> [EventID]? {
        if let hit = entries[id] { return hit }
        guard let v = compute() else { return nil }
        put(id, v)
        return v
    }

    /// Records what `id` (stored now, or about to be) knows of the membership.
    func put(_ id: EventID, _ known: [EventID]) {
        if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
        entries[id] = known
    }
}

/// A `GroupContext` over a `StoreHistory`.
struct StoreContext: GroupContext {
    let history: StoreHistory
    let groupKey: [UInt8]
    let membershipIndex: MembershipIndex?

    func content(of event: Event) throws(EventError) -> Hark_V1_Content {
        try BodyCipher.open(event, groupKey: groupKey)
    }
}

/// An `IntakeHistory` over a `StoreHistory`: a delivery judged from the store's answers (loaded
/// before the pass), without the group's graph. Each accepted MEMBER event's content is recorded
/// in the membership index, so the events after it in the batch are judged on it.
/// Not thread-safe: one delivery on the node's actor.
struct StoreIntakeHistory: IntakeHistory {
    var history: StoreHistory
    /// The 32 B group key.
    let groupKey: [UInt8]
    let membershipIndex: MembershipIndex

    func holds(_ id: EventID) -> Bool { history.contains(id) }

    func judge(_ event: Event) throws(EventError) {
        let facts = EventValidator.parentFacts(of: event, in: history, group: event.effectiveGroupID)
        try EventValidator.validate(event, parentFacts: facts,
                                    context: StoreContext(history: history, groupKey: groupKey, membershipIndex: membershipIndex))
    }

    mutating func accept(_ event: Event) {
        history.add(event)
        if event.kind == .member {
            membershipIndex.record(event.id, member: GraphIntakeHistory.memberContent(of: event, groupKey: groupKey))
        }
    }
}
