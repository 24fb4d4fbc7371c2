import HarkCrypto
import HarkEventProto

/// The events of one group that arrive from peers, in any order, on their way to delivery
/// (PROTOCOL.md §4.4, §6): they wait until every parent is held, are then validated in total
/// order (a valid event's parents have smaller Lamport timestamps, so one pass in that order
/// delivers a whole batch), and come out as actions for the caller: store these, remember these
/// as refused, read these MEMBER contents, request these absent parents.
///
/// A pure state machine: it reads no store and no clock. The caller looks up which events it
/// holds already (`screen`, then `admit` the unknown ones), runs `deliver(into:)` with its view
/// of the group's history (`IntakeHistory`), and does the I/O the `Pass` asks for. The node's
/// live delivery and sync, `hark import`, and the reference replica of HarkSync all use it.
///
/// Value type; not thread-safe (one owner mutates it).
public struct EventIntake: Sendable {
    /// Default bound on events waiting for parents, per group (about 40 MB of events at 0.4 kB).
    public static let defaultMaxWaiting = 100_000

    /// The group (its genesis ID) every event must belong to.
    public let group: EventID
    /// Most events that may wait for parents at once; `admit` refuses beyond.
    public let maxWaiting: Int
    /// Events received whose parents are not all held yet, by ID.
    public private(set) var waiting: [EventID: Event] = [:]
    /// Events that failed validation: never delivered, relayed or requested again.
    public private(set) var rejected: Set<EventID> = []

    /// Why `screen` or `admit` refused what a peer sent (the caller drops the channel).
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// The event belongs to another group.
        case foreignEvent(EventID)
        /// The event failed validation before.
        case rejectedBefore(EventID)
        /// `maxWaiting` events wait for parents already (value: the bound).
        case tooManyWaiting(Int)

        public var description: String {
            switch self {
            case let .foreignEvent(id): return "event \(id) belongs to another group"
            case let .rejectedBefore(id): return "event \(id) was rejected before"
            case let .tooManyWaiting(n): return "too many events without parents (\(n) wait already)"
            }
        }
    }

    /// An event the pass refused, and why.
    public struct Rejection: Sendable {
        public let event: Event
        public let error: EventError
        /// Whether the ID is remembered as refused. Not for `.missingBody`: anyone can strip a
        /// valid event's body, so that refuses the copy, not the event.
        public var remembered: Bool { error != .missingBody }
    }

    /// What one `deliver(into:)` did, as actions for the caller.
    public struct Pass: Sendable {
        /// Validated and accepted into the history, in total order: store them (one transaction).
        public var accepted: [Event] = []
        /// Refused: log them, and record the remembered ones in the store.
        public var rejections: [Rejection] = []
        /// MEMBER events whose contents the membership index lacks: the pass stopped before the
        /// event that needs them. Record them (`MembershipIndex.record`) and deliver again.
        public var needs: [EventID] = []

        public init() {}
    }

    /// - Parameters:
    ///   - group: the group's genesis ID.
    ///   - maxWaiting: most events waiting for parents (≥ 1).
    public init(group: EventID, maxWaiting: Int = EventIntake.defaultMaxWaiting) {
        self.group = group
        self.maxWaiting = max(1, maxWaiting)
    }

    /// Whether `id` waits for parents.
    public func isWaiting(_ id: EventID) -> Bool { waiting[id] != nil }

    /// Whether `id` failed validation before.
    public func isRejected(_ id: EventID) -> Bool { rejected.contains(id) }

    /// Checks that every one of `events` belongs to the group and none was refused before, and
    /// returns those not waiting already: the caller looks these up in what it holds.
    /// - Throws: `Refusal.foreignEvent` or `.rejectedBefore` for the first offending event.
    public func screen(_ events: [Event]) throws(Refusal) -> [Event] {
        for event in events {
            guard event.effectiveGroupID == group else { throw .foreignEvent(event.id) }
            if rejected.contains(event.id) { throw .rejectedBefore(event.id) }
        }
        return events.filter { waiting[$0.id] == nil }
    }

    /// Queues `events`, none of them held (the caller's look-up said so); those waiting already
    /// are skipped.
    /// - Throws: `Refusal.tooManyWaiting` when `maxWaiting` events wait; the ones queued before
    ///   that stay queued.
    public mutating func admit(_ events: some Sequence<Event>) throws(Refusal) {
        for event in events where waiting[event.id] == nil {
            guard waiting.count < maxWaiting else { throw .tooManyWaiting(maxWaiting) }
            waiting[event.id] = event
        }
    }

    /// Delivers every waiting event whose parents are all held, in total order: each is judged
    /// by `history`, then accepted into it (so its children in this batch are ready) or refused.
    /// Stops early when a judgement needs MEMBER contents (`Pass.needs`); what was accepted
    /// before that is in the pass, and the rest still waits.
    public mutating func deliver(into history: inout some IntakeHistory) -> Pass {
        var pass = Pass()
        guard !waiting.isEmpty else { return pass }
        for event in waiting.values.inTotalOrder() {
            guard event.allParents.allSatisfy({ history.holds($0) }) else { continue }
            do {
                try history.judge(event)
            } catch .memberContentsNeeded(let ids) {
                pass.needs = ids
                return pass
            } catch {
                waiting.removeValue(forKey: event.id)
                let rejection = Rejection(event: event, error: error)
                if rejection.remembered { rejected.insert(event.id) }
                pass.rejections.append(rejection)
                continue
            }
            history.accept(event)
            waiting.removeValue(forKey: event.id)
            pass.accepted.append(event)
        }
        return pass
    }

    /// The parents waiting events name that are neither waiting nor refused: the caller requests
    /// those it does not hold. Each ID once, in no particular order.
    public func namedParents() -> [EventID] {
        var out: Set<EventID> = []
        for e in waiting.values {
            for p in e.allParents where waiting[p] == nil && !rejected.contains(p) { out.insert(p) }
        }
        return Array(out)
    }

    /// Puts accepted events back among those waiting (the caller could not store them), beyond
    /// `maxWaiting` if need be: they were admitted once.
    public mutating func requeue(_ events: [Event]) {
        for e in events { waiting[e.id] = e }
    }
}

/// What an `EventIntake` delivers into: the group's delivered events, how a ready event is
/// judged, and where an accepted one goes. Implementations do no I/O during a pass: what they
/// read (a graph, a store's answers loaded before) is in memory.
public protocol IntakeHistory {
    /// Whether `id` is held: delivered before, or accepted earlier in this pass.
    func holds(_ id: EventID) -> Bool
    /// Validates `event`, whose parents are all held (PROTOCOL.md §4.3).
    /// - Throws: `EventError`, the rule broken; `.memberContentsNeeded` stops the pass until the
    ///   caller recorded those contents.
    func judge(_ event: Event) throws(EventError)
    /// Takes an event `judge` accepted; it is held from now on.
    mutating func accept(_ event: Event)
}

extension EventValidator {
    /// What the rules read of each parent of `event` held in `history` (parents it lacks are left
    /// out; validation then reports them missing). Every held event is of `group`.
    public static func parentFacts(of event: Event, in history: some CausalHistory, group: EventID) -> [EventID: ParentFacts] {
        var facts: [EventID: ParentFacts] = [:]
        for p in event.allParents {
            if let e = history.entry(p) { facts[p] = ParentFacts(author: e.author, seq: e.seq, lamport: e.lamport, group: group) }
        }
        return facts
    }
}

/// An `IntakeHistory` over an in-memory `CausalGraph`. With a group key, events are judged by
/// every rule (`EventValidator.validate(_:parentFacts:context:)`, with the membership index for
/// a group with roles) and each accepted MEMBER event's content is recorded in the index; without
/// one, by the rules that need no key (`validate(_:parentFacts:)`), as a replica that cannot read
/// bodies would. Forks found on insert are collected in `forks` (for equivocation proofs).
///
/// Value type; not thread-safe.
public struct GraphIntakeHistory: IntakeHistory {
    public private(set) var graph: CausalGraph
    /// The 32 B group key, or nil to judge without bodies.
    public let groupKey: [UInt8]?
    public let membershipIndex: MembershipIndex?
    /// Forks the accepted events made (an author's two events with one seq), in order found.
    public private(set) var forks: [CausalGraph.Fork] = []

    public init(graph: CausalGraph, groupKey: [UInt8]?, membershipIndex: MembershipIndex? = nil) {
        self.graph = graph
        self.groupKey = groupKey
        self.membershipIndex = membershipIndex
    }

    public func holds(_ id: EventID) -> Bool { graph.contains(id) }

    public func judge(_ event: Event) throws(EventError) {
        let facts = EventValidator.parentFacts(of: event, in: graph, group: event.effectiveGroupID)
        if let groupKey {
            // The context's copy of the graph ends with this call, before `accept` mutates it.
            try EventValidator.validate(event, parentFacts: facts,
                                        context: KeyedGroupContext(graph: graph, groupKey: groupKey, membershipIndex: membershipIndex))
        } else {
            try EventValidator.validate(event, parentFacts: facts)
        }
    }

    public mutating func accept(_ event: Event) {
        // Cannot fail: `judge` found every parent in the graph.
        if let (_, fork) = try? graph.insert(event), let fork { forks.append(fork) }
        if event.kind == .member, let groupKey, let membershipIndex {
            membershipIndex.record(event.id, member: Self.memberContent(of: event, groupKey: groupKey))
        }
    }

    /// The decoded content of a MEMBER event, nil if its body does not open to one.
    public static func memberContent(of event: Event, groupKey: [UInt8]) -> Hark_V1_Member? {
        guard let c = try? BodyCipher.open(event, groupKey: groupKey), case let .member(m)? = c.content else { return nil }
        return m
    }
}
