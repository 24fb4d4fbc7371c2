import HarkCrypto
import HarkEventProto

/// An in-memory index of one group's delivered events: parents, children, Lamport timestamps,
/// heads, and each author's sequence numbers. The sync state machine and the ancestor-dependent
/// validation rules query it; the node keeps one per group, filled from the store at start.
///
/// Pure and deterministic. Memory: about 200 B per event. Value type; not thread-safe to mutate
/// from several tasks (keep it in one actor).
public struct CausalGraph: Sendable {
    /// What the graph keeps of each event.
    public struct Entry: Sendable, Equatable {
        public let id: EventID
        public let parents: [EventID]   // self_parent first (if any), then the others
        public let lamport: UInt64
        public let author: SigningPublicKey
        public let seq: UInt64
        public let kind: Hark_V1_EventKind

        public init(id: EventID, parents: [EventID], lamport: UInt64, author: SigningPublicKey, seq: UInt64, kind: Hark_V1_EventKind) {
            self.id = id
            self.parents = parents
            self.lamport = lamport
            self.author = author
            self.seq = seq
            self.kind = kind
        }
    }

    /// Two events by one author with one sequence number (an equivocation, PROTOCOL.md §4.6).
    public struct Fork: Sendable, Hashable {
        public let author: SigningPublicKey
        public let seq: UInt64
        /// The two event IDs, smaller first.
        public let first: EventID
        public let second: EventID
    }

    private struct AuthorSeq: Hashable { let author: SigningPublicKey; let seq: UInt64 }

    private var entries: [EventID: Entry] = [:]
    private var childrenOf: [EventID: [EventID]] = [:]
    private var headSet: Set<EventID> = []
    private var bySeq: [AuthorSeq: [EventID]] = [:]
    /// Forks seen so far, in the order they were found.
    public private(set) var forks: [Fork] = []
    private var proofsAgainst: [SigningPublicKey: [EventID]] = [:]
    /// Per event: the membership events (GENESIS, JOIN, MEMBER) among its ancestors and itself,
    /// sorted. Events without a membership change share their parent's array (copy-on-write), so
    /// this costs one reference per event.
    private var memberships: [EventID: [EventID]] = [:]

    public init() {}

    /// Number of events held.
    public var count: Int { entries.count }
    public func contains(_ id: EventID) -> Bool { entries[id] != nil }
    public func entry(_ id: EventID) -> Entry? { entries[id] }
    public func lamport(_ id: EventID) -> UInt64? { entries[id]?.lamport }
    public func parents(_ id: EventID) -> [EventID] { entries[id]?.parents ?? [] }
    public func children(_ id: EventID) -> [EventID] { childrenOf[id] ?? [] }
    /// Events with no children, sorted by ID bytes.
    public var heads: [EventID] { headSet.sorted() }
    /// Every entry, in no particular order (cheaper than `allInOrder` when order does not matter).
    public var unorderedEntries: Dictionary<EventID, Entry>.Values { entries.values }

    /// All event IDs, in total order (lamport, ID).
    public var allInOrder: [EventID] { sortInOrder(Array(entries.keys)) }

    /// Adds a delivered event. An EQUIVOCATION_PROOF event whose body holds a valid proof is
    /// also indexed under the accused author (`equivocationProofs(against:)`).
    /// - Returns: false if it was already held; the new fork if this event equivocates.
    /// - Throws: `EventError.missingParents` if a parent is not in the graph (deliver parents first).
    @discardableResult
    public mutating func insert(_ e: Event) throws(EventError) -> (inserted: Bool, fork: Fork?) {
        if entries[e.id] != nil { return (false, nil) }
        let missing = e.allParents.filter { entries[$0] == nil }
        guard missing.isEmpty else { throw .missingParents(missing) }
        entries[e.id] = Entry(id: e.id, parents: e.allParents, lamport: e.lamport, author: e.author, seq: e.seq, kind: e.kind)
        var frontier = membershipEvents(before: e.allParents)
        if Self.isMembershipKind(e.kind) {
            frontier.insert(e.id, at: frontier.firstIndex { $0 > e.id } ?? frontier.endIndex)
        }
        memberships[e.id] = frontier
        for p in e.allParents {
            childrenOf[p, default: []].append(e.id)
            headSet.remove(p)
        }
        headSet.insert(e.id)
        let key = AuthorSeq(author: e.author, seq: e.seq)
        var same = bySeq[key] ?? []
        same.append(e.id)
        bySeq[key] = same
        if e.kind == .equivocationProof, let accusation = try? EquivocationProof.accusation(in: e) {
            proofsAgainst[accusation.author, default: []].append(e.id)
        }
        var fork: Fork?
        if same.count > 1 {
            let other = same[0]
            let (a, b) = other < e.id ? (other, e.id) : (e.id, other)
            let found = Fork(author: e.author, seq: e.seq, first: a, second: b)
            fork = found
            forks.append(found)
        }
        return (true, fork)
    }

    /// Whether events of `kind` change membership: GENESIS, JOIN, MEMBER.
    public static func isMembershipKind(_ kind: Hark_V1_EventKind) -> Bool {
        kind == .genesis || kind == .join || kind == .member
    }

    /// The membership events (GENESIS, JOIN, MEMBER) among `ids` and their ancestors, sorted by
    /// ID. Cost: O(parents × membership events) when parents differ, O(1) when they agree.
    public func membershipEvents(before ids: [EventID]) -> [EventID] {
        var result: [EventID]?
        for p in ids {
            guard let m = memberships[p] else { continue }
            guard let r = result else { result = m; continue }
            if r == m { continue }
            result = Array(Set(r).union(m)).sorted()
        }
        return result ?? []
    }

    /// The membership events among the strict ancestors of `id`.
    public func membershipAncestors(of id: EventID) -> [EventID] {
        membershipEvents(before: entries[id]?.parents ?? [])
    }

    /// The held EQUIVOCATION_PROOF events whose (valid) proof accuses `author`, in insertion
    /// order. A proof event inserted without its body (purged) is not counted.
    public func equivocationProofs(against author: SigningPublicKey) -> [EventID] {
        proofsAgainst[author] ?? []
    }

    /// Authors accused by some held, valid EQUIVOCATION_PROOF event.
    public var provenEquivocators: Set<SigningPublicKey> { Set(proofsAgainst.keys) }

    /// The IDs an author used for `seq` (more than one means a fork).
    public func events(author: SigningPublicKey, seq: UInt64) -> [EventID] {
        bySeq[AuthorSeq(author: author, seq: seq)] ?? []
    }

    /// The highest Lamport timestamp among `author`'s events, or 0.
    public func maxLamport(author: SigningPublicKey) -> UInt64 {
        var best: UInt64 = 0
        for e in entries.values where e.author == author { best = max(best, e.lamport) }
        return best
    }

    /// Every event reachable from `ids` by parent links, including `ids` themselves
    /// (those held). Cost: proportional to the set returned.
    public func ancestorsOrSelf(of ids: [EventID]) -> Set<EventID> {
        var seen: Set<EventID> = []
        var stack = ids.filter { entries[$0] != nil }
        while let x = stack.popLast() {
            guard seen.insert(x).inserted else { continue }
            for p in entries[x]?.parents ?? [] where !seen.contains(p) { stack.append(p) }
        }
        return seen
    }

    /// Whether `ancestor` is `id` itself or reachable from it by parent links. Explores only
    /// events with a Lamport timestamp above `ancestor`'s, so a recent ancestor is found fast.
    public func isAncestorOrSelf(_ ancestor: EventID, of ids: [EventID]) -> Bool {
        guard let target = entries[ancestor] else { return false }
        var seen: Set<EventID> = []
        var stack = ids
        while let x = stack.popLast() {
            if x == ancestor { return true }
            guard let e = entries[x], e.lamport > target.lamport, seen.insert(x).inserted else { continue }
            stack.append(contentsOf: e.parents)
        }
        return false
    }

    /// Every held event that is *not* an ancestor-or-self of `heads`, in total order. With
    /// `heads` = what a peer had at the last sync, this is "what I added since then".
    public func events(notReachableFrom heads: [EventID]) -> [EventID] {
        let known = ancestorsOrSelf(of: heads)
        return sortInOrder(entries.keys.filter { !known.contains($0) })
    }

    /// `ids` and every event that descends from any of them, in total order.
    public func descendantsOrSelf(of ids: [EventID]) -> [EventID] {
        var seen: Set<EventID> = []
        var stack = ids.filter { entries[$0] != nil }
        while let x = stack.popLast() {
            guard seen.insert(x).inserted else { continue }
            stack.append(contentsOf: childrenOf[x] ?? [])
        }
        return sortInOrder(Array(seen))
    }

    /// Sorts IDs by (lamport, ID); unknown IDs sort last.
    public func sortInOrder(_ ids: [EventID]) -> [EventID] {
        // One look-up per ID, not two per comparison.
        let keyed: [EventOrder] = ids.map { id in EventOrder(lamport: entries[id]?.lamport ?? .max, id: id) }
        return keyed.sorted().map(\.id)
    }
}
