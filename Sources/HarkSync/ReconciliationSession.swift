import Foundation
import HarkCrypto
import HarkLog
import HarkWireProto

/// Kleppmann–Howard Algorithm 2 ("Byzantine Eventual Consistency", §4) for one (peer, group) on
/// one channel: docs/PROTOCOL.md §6.3.
///
/// A pure, time-free state machine. The caller owns the `CausalGraph` of delivered events and
/// passes the current one to every call; it also sends the frames, validates and delivers events
/// (parents first) and keeps the heads stored per peer. The session plays two roles at once:
///
/// - **initiator** of its own sync: `start` → (peer's events arrive, caller delivers them) →
///   `receive(reply:)` → `.needs` (send them, loop) or `.complete(heads:)` (store those heads
///   for this peer) or `.failed`.
/// - **responder** to the peer's: `answer(request:)` and `answer(needs:)` each return the events
///   to send (in total order) and the `SyncReply` to send right after them.
///
/// Both sides call `start` when the group becomes shared, so each side learns what it lacks.
/// Every SyncRequest and every Needs frame is answered by exactly one SyncReply, sent after the
/// events, so the initiator knows when an answer is complete.
///
/// Against a Byzantine peer: every list it sends is bounded (`ReconciliationLimits`) and
/// validated (a bad one throws `SyncError`, nothing is changed); a bogus Bloom filter or lies in
/// `heads`/`since` only make us send more or less of *our* events to *it*; unresolvable heads make
/// our sync end in `.failed` after at most `maxNeedsRounds` rounds (or as soon as the peer fails
/// to supply an ID it was asked for); silence leaves the session waiting (the caller times out).
///
/// Value type; not thread-safe to mutate concurrently (keep it in the node's actor).
public struct ReconciliationSession: Sendable {
    /// Where our own sync stands.
    public enum Phase: Sendable, Equatable {
        case idle
        case awaitingReply
        case complete
        case failed(String)
    }

    /// What to do after a SyncReply.
    public enum Step: Sendable, Equatable {
        /// More replies are due (for Needs already sent); do nothing.
        case wait
        /// Send these Needs frames (each will be answered by events and a SyncReply).
        case needs([Hark_V1_Needs])
        /// Nothing is missing: store `heads` as this peer's heads (next `start`'s `storedHeads`).
        case complete(heads: [EventID])
        /// The peer claimed events it will not supply; this sync is abandoned (store nothing).
        case failed(String)
    }

    /// The events to send (in total order, parents first) and the SyncReply to send after them.
    public struct Answer: Sendable {
        public let events: [EventID]
        public let reply: Hark_V1_SyncReply
    }

    public let group: EventID
    public private(set) var phase: Phase = .idle
    /// Rounds of our current sync so far: 1 for the SyncRequest, +1 per batch of Needs.
    public private(set) var rounds = 0

    private var outstandingReplies = 0
    private var asked: Set<EventID> = []
    private var peerHeads: [EventID] = []
    /// heads ∪ since of the peer's latest SyncRequest: their ancestors-or-self are known to it.
    private var peerKnown: [EventID] = []
    private var knownCache: (held: Int, set: Set<EventID>)?

    public init(group: EventID) { self.group = group }

    // MARK: initiator

    /// Begins (or restarts) our sync: our heads, `since` = the heads stored after the last
    /// complete sync with this peer (those we hold), and a Bloom filter of every event we hold
    /// that is not an ancestor-or-self of `since`.
    /// - Parameter salt: the Bloom salt; nil = fresh random (tests inject one).
    public mutating func start(graph: CausalGraph, storedHeads: [EventID], salt: [UInt8]? = nil) -> Hark_V1_SyncRequest {
        let since = Self.since(storedHeads.filter(graph.contains))
        return start(heads: graph.heads, since: since, bloom: BloomFilter(graph.events(notReachableFrom: since), salt: salt))
    }

    /// The `since` of a SyncRequest: the stored heads of the last complete sync that we hold,
    /// deduplicated, sorted, at most `maxHeads`.
    public static func since(_ heldStoredHeads: [EventID]) -> [EventID] {
        Array(Set(heldStoredHeads).sorted().prefix(ReconciliationLimits.maxHeads))
    }

    /// `start(graph:storedHeads:salt:)` on values the caller computed (from its store): our
    /// heads (sorted by ID), `since` (from `since(_:)`) and a Bloom filter of every event we
    /// hold that is not an ancestor-or-self of `since`.
    public mutating func start(heads: [EventID], since: [EventID], bloom: BloomFilter) -> Hark_V1_SyncRequest {
        var request = Hark_V1_SyncRequest()
        request.groupID = Data(group.bytes)
        request.heads = Self.capped(heads).map { Data($0.bytes) }
        request.since = since.map { Data($0.bytes) }
        request.bloom = bloom.proto
        phase = .awaitingReply
        rounds = 1
        asked = []
        outstandingReplies += 1
        return request
    }

    /// Counts Needs frames the caller sent outside this session's own steps (after a Heads frame
    /// or a head hint, PROTOCOL.md §7.5): each is answered with events and a SyncReply, which
    /// `receive(reply:…)` then expects instead of refusing it as unasked-for.
    public mutating func expectReplies(_ count: Int) {
        outstandingReplies += count
    }

    /// Handles a SyncReply (the end of the peer's answer to our SyncRequest or to one Needs frame),
    /// after the caller has delivered the events that came before it.
    /// - Parameter waiting: events received but not deliverable yet (ID → all parents).
    /// - Throws: `SyncError` for a malformed reply or one we did not ask for.
    public mutating func receive(reply: Hark_V1_SyncReply, graph: CausalGraph,
                                 waiting: [EventID: [EventID]] = [:]) throws(SyncError) -> Step {
        try receive(reply: reply, isHeld: graph.contains, waiting: waiting)
    }

    /// `receive(reply:graph:waiting:)` with `isHeld` answering whether an event is delivered
    /// here (from the caller's store): it is asked about the reply's heads and the parents of
    /// `waiting` events only.
    public mutating func receive(reply: Hark_V1_SyncReply, isHeld: (EventID) -> Bool,
                                 waiting: [EventID: [EventID]] = [:]) throws(SyncError) -> Step {
        try checkGroup(reply.groupID)
        let heads = try Self.ids(reply.heads, field: "heads", limit: ReconciliationLimits.maxHeads)
        guard outstandingReplies > 0 else { throw .unexpectedReply }
        outstandingReplies -= 1
        peerHeads = heads
        guard phase == .awaitingReply else { return .wait }
        guard outstandingReplies == 0 else { return .wait }

        // Gaps that keep a peer head from being delivered: walk through waiting events to the
        // first IDs we neither hold nor wait on.
        var headGaps: Set<EventID> = []
        var seen: Set<EventID> = []
        var stack = heads.filter { !isHeld($0) }
        while let x = stack.popLast() {
            guard seen.insert(x).inserted else { continue }
            if let ps = waiting[x] {
                stack.append(contentsOf: ps.filter { !isHeld($0) })
            } else {
                headGaps.insert(x)
            }
        }
        if headGaps.isEmpty {
            phase = .complete
            return .complete(heads: heads.sorted())
        }
        let newHeadGaps = headGaps.subtracting(asked)
        guard !newHeadGaps.isEmpty else {
            return fail("peer did not supply \(headGaps.count) event(s) it claims, e.g. \(headGaps.min()!)")
        }
        guard rounds <= ReconciliationLimits.maxNeedsRounds else {
            return fail("still missing \(headGaps.count) event(s) after \(rounds) rounds")
        }
        // Also ask (once) for other waiting events' missing parents: the peer may well hold them.
        var others: Set<EventID> = []
        for ps in waiting.values {
            for p in ps where !isHeld(p) && waiting[p] == nil && !asked.contains(p) && !headGaps.contains(p) {
                others.insert(p)
            }
        }
        let ask = Array((newHeadGaps.sorted() + others.sorted()).prefix(ReconciliationLimits.maxNeedsIDsPerRound))
        asked.formUnion(ask)
        let maxAncestors = min(UInt32(ReconciliationLimits.maxAncestorsPerID),
                               ReconciliationLimits.initialMaxAncestors << UInt32(min(rounds - 1, 16)))
        rounds += 1
        var frames: [Hark_V1_Needs] = []
        for chunk in stride(from: 0, to: ask.count, by: ReconciliationLimits.maxNeedsIDs) {
            var n = Hark_V1_Needs()
            n.groupID = Data(group.bytes)
            n.ids = ask[chunk..<min(chunk + ReconciliationLimits.maxNeedsIDs, ask.count)].map { Data($0.bytes) }
            n.maxAncestors = maxAncestors
            frames.append(n)
        }
        outstandingReplies += frames.count
        return .needs(frames)
    }

    // MARK: responder

    /// Answers the peer's SyncRequest (BEC Algorithm 2): every event we hold that is not an
    /// ancestor-or-self of the peer's `since` or `heads` and tests negative in its Bloom filter,
    /// plus every descendant of those (the peer cannot hold a child without its parent), in
    /// total order; then our heads.
    /// - Throws: `SyncError` for a malformed request; nothing is changed then.
    public mutating func answer(request: Hark_V1_SyncRequest, graph: CausalGraph) throws(SyncError) -> Answer {
        let bloom = try accept(request: request)
        let known = knownSet(graph)
        let negatives = graph.allInOrder.filter { !known.contains($0) && !bloom.mightContain($0) }
        return Answer(events: graph.descendantsOrSelf(of: negatives), reply: makeReply(graph))
    }

    /// Answers a Needs frame: the asked events we hold, plus up to `max_ancestors` (≤ 1024) of
    /// each one's nearest ancestors that the peer is not known to hold (walking back by Lamport,
    /// stopping at ancestors-or-self of the heads/since of its latest SyncRequest), at most
    /// `maxEventsPerNeedsAnswer` in all, in total order; then our heads. IDs we do not hold are
    /// ignored.
    /// - Throws: `SyncError` for a malformed frame.
    public mutating func answer(needs: Hark_V1_Needs, graph: CausalGraph) throws(SyncError) -> Answer {
        let (ids, perID) = try accept(needs: needs)
        let known = knownSet(graph)
        var out: Set<EventID> = []
        for id in ids where graph.contains(id) && out.count < ReconciliationLimits.maxEventsPerNeedsAnswer {
            out.insert(id)
            let room = min(perID, ReconciliationLimits.maxEventsPerNeedsAnswer - out.count)
            out.formUnion(graph.nearestAncestors(of: [id], limit: room, stop: known, skip: out))
        }
        return Answer(events: graph.sortInOrder(Array(out)), reply: makeReply(graph))
    }

    // MARK: responder from a store

    /// Checks the peer's SyncRequest and records its heads and `since` (`peerKnown`), for an
    /// answer computed from the caller's store instead of a graph: the same events as
    /// `answer(request:graph:)` (those not ancestors-or-self of `peerKnown` that the returned
    /// filter does not hold, and their descendants, in total order), then `reply(heads:)`.
    /// - Throws: `SyncError` for a malformed request; nothing is changed then.
    public mutating func accept(request: Hark_V1_SyncRequest) throws(SyncError) -> BloomFilter {
        try checkGroup(request.groupID)
        let heads = try Self.ids(request.heads, field: "heads", limit: ReconciliationLimits.maxHeads)
        let since = try Self.ids(request.since, field: "since", limit: ReconciliationLimits.maxHeads)
        guard request.hasBloom else { throw .missingBloomFilter }
        let bloom = try BloomFilter(validating: request.bloom)
        peerKnown = Array(Set(heads + since))
        knownCache = nil
        return bloom
    }

    /// Checks a Needs frame: the asked IDs and how many ancestors of each to add (≤ 1024).
    /// - Throws: `SyncError` for a malformed frame.
    public func accept(needs: Hark_V1_Needs) throws(SyncError) -> (ids: [EventID], perID: Int) {
        try checkGroup(needs.groupID)
        let ids = try Self.ids(needs.ids, field: "needs", limit: ReconciliationLimits.maxNeedsIDs)
        return (ids, Int(min(needs.maxAncestors, UInt32(ReconciliationLimits.maxAncestorsPerID))))
    }

    /// The peer's heads and `since` from its latest SyncRequest: their ancestors-or-self are
    /// known to it.
    public var peerKnownIDs: [EventID] { peerKnown }

    /// The SyncReply that ends an answer: our heads (sorted by ID; at most `maxHeads` sent).
    public func reply(heads: [EventID]) -> Hark_V1_SyncReply {
        var r = Hark_V1_SyncReply()
        r.groupID = Data(group.bytes)
        r.heads = Self.capped(heads).map { Data($0.bytes) }
        return r
    }

    // MARK: helpers

    private mutating func fail(_ why: String) -> Step {
        phase = .failed(why)
        return .failed(why)
    }

    private mutating func knownSet(_ graph: CausalGraph) -> Set<EventID> {
        let held = peerKnown.filter(graph.contains).count
        if let c = knownCache, c.held == held { return c.set }
        let set = graph.ancestorsOrSelf(of: peerKnown)
        knownCache = (held, set)
        return set
    }

    private func makeReply(_ graph: CausalGraph) -> Hark_V1_SyncReply {
        var r = Hark_V1_SyncReply()
        r.groupID = Data(group.bytes)
        r.heads = Self.capped(graph.heads).map { Data($0.bytes) }
        return r
    }

    private func checkGroup(_ bytes: Data) throws(SyncError) {
        guard bytes.count == EventID.byteCount else { throw .badID(field: "group", byteCount: bytes.count) }
        guard [UInt8](bytes) == group.bytes else { throw .wrongGroup }
    }

    /// Our heads, at most `maxHeads` (the latest in ID order if there are more; truncating only
    /// makes the peer send more).
    private static func capped(_ heads: [EventID]) -> [EventID] {
        Array(heads.suffix(ReconciliationLimits.maxHeads))
    }

    private static func ids(_ list: [Data], field: String, limit: Int) throws(SyncError) -> [EventID] {
        guard list.count <= limit else { throw .tooMany(field: field, count: list.count, limit: limit) }
        var out: [EventID] = []
        out.reserveCapacity(list.count)
        for d in list {
            guard let id = try? EventID(bytes: [UInt8](d)) else { throw .badID(field: field, byteCount: d.count) }
            out.append(id)
        }
        return out
    }
}
