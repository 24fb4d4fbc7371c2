import HarkCrypto
import HarkEventProto
import struct Foundation.Data

/// The visible state of a group (PROTOCOL.md §4.7): a pure, deterministic fold over its
/// delivered events. Two replicas holding the same events compute equal states, whatever order
/// the events arrived in. Value type; thread-safe.
///
/// Folds only what it is given: feed it delivered (validated) events. It ignores operations
/// whose target it does not hold or that break a kind rule, so it never traps. Inert events
/// (PROTOCOL.md §4.7: a MESSAGE or EDIT whose body does not open to its case, an EDIT of
/// anything but the author's own earlier MESSAGE) have no effect; an unreadable MESSAGE is listed
/// with `text == nil`.
public struct GroupState: Sendable, Equatable {
    /// One delivered event with what the caller knows of it.
    public struct Input: Sendable {
        public let event: Event
        /// The decrypted content; nil when purged or when the event has no encrypted body
        /// (EQUIVOCATION_PROOF bodies are read from `event.body`).
        public let content: Hark_V1_Content?
        /// When this replica received the event, ms since the Unix epoch (nil: unknown, or an
        /// event this replica authored). Used only for the clock-skew flag.
        public let receivedMs: Int64?

        public init(event: Event, content: Hark_V1_Content?, receivedMs: Int64? = nil) {
            self.event = event
            self.content = content
            self.receivedMs = receivedMs
        }
    }

    /// A reaction currently present: `reactor` reacted with `emoji`.
    public struct Reaction: Sendable, Hashable, Comparable {
        public let reactor: SigningPublicKey
        public let emoji: String
        public init(reactor: SigningPublicKey, emoji: String) {
            self.reactor = reactor
            self.emoji = emoji
        }
        /// By emoji (UTF-8 bytes), then reactor key bytes.
        public static func < (a: Reaction, b: Reaction) -> Bool {
            let ea = Array(a.emoji.utf8), eb = Array(b.emoji.utf8)
            return ea != eb ? ea.lexicographicallyPrecedes(eb) : a.reactor < b.reactor
        }
    }

    /// A MESSAGE as shown.
    public struct Message: Sendable, Equatable {
        public let id: EventID
        public let author: SigningPublicKey
        public let order: EventOrder
        public let wallMs: Int64
        /// The text to show: the latest edit's (greatest order key), else the original; nil when
        /// deleted or when the body is not available (purged without a delete seen here).
        public internal(set) var text: String?
        /// The text as first sent (nil when deleted or not available).
        public internal(set) var originalText: String?
        /// The EDIT whose text is shown, if any.
        public internal(set) var lastEdit: EventID?
        /// True when an edit's text is shown (never for a deleted message).
        public var edited: Bool { lastEdit != nil }
        /// Hidden by a DELETE: text, edits and reactions are gone.
        public internal(set) var deleted: Bool
        /// The reactions present, sorted (`Reaction.<`). Empty when deleted.
        public internal(set) var reactions: [Reaction]
        /// The message this one answers (`Text.reply_to`, PROTOCOL.md §4.7.7): nil when absent,
        /// not 32 B, or when deleted. It need not be held here.
        public internal(set) var replyTo: EventID? = nil
        /// The members it addresses (`Text.mentions`, PROTOCOL.md §4.7.8): the 32 B entries
        /// that are keys, first occurrence kept, at most `EventLimits.maxMentions`; empty when deleted.
        public internal(set) var mentions: [SigningPublicKey] = []
    }

    /// Messages in total order.
    public private(set) var messages: [Message] = []
    /// Authors known to have equivocated: a fork (two delivered events with one author and seq)
    /// or a delivered, valid EQUIVOCATION_PROOF.
    public private(set) var equivocators: Set<SigningPublicKey> = []
    /// Events whose bodies every replica may drop (`Event.purged()`): targets of DELETEs, and
    /// edits of deleted messages.
    public private(set) var purgeable: Set<EventID> = []
    /// Events whose `wall_ms` is below the greatest `wall_ms` among their ancestors (events
    /// flagged themselves left out), or more than `futureToleranceMs` after their receipt time
    /// (PROTOCOL.md §4.7.4). Flagged only: never dropped or reordered.
    public private(set) var implausibleTime: Set<EventID> = []
    /// The settled watermark W (see `init`).
    public let settledWatermark: UInt64

    /// How far ahead of its receipt time an event's `wall_ms` may be: 5 minutes.
    public static let futureToleranceMs: Int64 = 5 * 60 * 1000

    /// Folds `events`.
    ///
    /// - Parameters:
    ///   - events: the group's delivered events, each once, in any order (they are folded in
    ///     total order (lamport, ID); duplicates by ID are ignored).
    ///   - members: the current members, i.e. the genesis author and every JOIN author
    ///     (`GroupState.members(in:)`).
    ///
    /// Settled watermark: W = min over `members` m of the greatest lamport delivered from m
    /// (0 if none). Every event a correct member authors next has a lamport above that member's
    /// previous event (it is its self-parent), and causal delivery means everything a member's
    /// delivered event depends on is delivered too; so no event of a correct current member with
    /// lamport ≤ W can still arrive, and the prefix of the total order up to W will not change
    /// any more (PROTOCOL.md §4.7.6). Not covered: events of members whose JOIN is not delivered
    /// yet, and new branches of an equivocator (PROTOCOL.md §4.6).
    public init(events: [Input], members: Set<SigningPublicKey>) {
        var seen: Set<EventID> = []
        let inputs = events.filter { seen.insert($0.event.id).inserted }.sorted { EventOrder.precedes($0.event, $1.event) }
        var eventsByID: [EventID: Event] = [:]
        for i in inputs { eventsByID[i.event.id] = i.event }

        // Per event: the greatest wall_ms of it and its ancestors, leaving out flagged events.
        var ancestorWallOf: [EventID: Int64] = [:]
        var maxLamport: [SigningPublicKey: UInt64] = [:]
        var seqs: [SigningPublicKey: [UInt64: EventID]] = [:]
        var index: [EventID: Int] = [:]            // message ID → position in `messages`
        var kindOf: [EventID: (Hark_V1_EventKind, SigningPublicKey)] = [:]
        // OR-set: add tags (REACTION event IDs) per message; removed tags.
        var adds: [EventID: [(tag: EventID, reaction: Reaction)]] = [:]
        var removed: Set<EventID> = []
        var editsOf: [EventID: [EventID]] = [:]
        var editText: [EventID: String] = [:]

        for input in inputs {
            let e = input.event
            kindOf[e.id] = (e.kind, e.author)
            maxLamport[e.author] = max(maxLamport[e.author] ?? 0, e.lamport)
            if let other = seqs[e.author]?[e.seq], other != e.id { equivocators.insert(e.author) }
            seqs[e.author, default: [:]][e.seq] = e.id

            // §4.7.4: compared with the greatest plausible wall_ms among all ancestors, carried
            // as a running max per event (parents precede children in the total order).
            let ancestorWall = e.allParents.compactMap { ancestorWallOf[$0] }.max()
            var implausible = false
            if let ancestorWall, e.wallMs < ancestorWall { implausible = true }
            if let r = input.receivedMs, e.wallMs > r &+ Self.futureToleranceMs { implausible = true }
            if implausible { implausibleTime.insert(e.id) }
            ancestorWallOf[e.id] = implausible ? (ancestorWall ?? Int64.min) : max(e.wallMs, ancestorWall ?? Int64.min)

            func target(_ raw: Data, kind: Hark_V1_EventKind, sameAuthor: Bool) -> EventID? {
                guard let id = try? EventID(bytes: [UInt8](raw)), let (k, a) = kindOf[id], k == kind,
                      !sameAuthor || a == e.author else { return nil }
                return id
            }

            switch (e.kind, input.content?.content) {
            case (.message, let c):
                var text: String?
                var message = Message(id: e.id, author: e.author, order: e.order, wallMs: e.wallMs, text: nil,
                                      originalText: nil, lastEdit: nil, deleted: false, reactions: [])
                if case let .text(t)? = c {
                    text = t.text
                    message.replyTo = TextFields.replyTo(t)
                    message.mentions = TextFields.mentions(t)
                }
                message.text = text
                message.originalText = text
                index[e.id] = messages.count
                messages.append(message)
            case let (.edit, .edit(edit)?):
                // EDIT validity does not look at the body (it may be purged), so its target rule is
                // applied here: the author's own MESSAGE among the edit's ancestors, else inert.
                guard let t = target(edit.target, kind: .message, sameAuthor: true),
                      Self.isAncestor(t, of: e.allParents, in: eventsByID) else { break }
                editsOf[t, default: []].append(e.id)
                editText[e.id] = edit.text
            case let (.delete, .delete(delete)?):
                guard let t = target(delete.target, kind: .message, sameAuthor: true) else { break }
                if let i = index[t] { messages[i].deleted = true }
            case let (.reaction, .reaction(r)?):
                guard let t = target(r.target, kind: .message, sameAuthor: false) else { break }
                for raw in r.removes {
                    if let tag = target(raw, kind: .reaction, sameAuthor: true) { removed.insert(tag) }
                }
                if !r.emoji.isEmpty, r.emoji.utf8.count <= EventLimits.maxEmojiBytes {
                    adds[t, default: []].append((e.id, Reaction(reactor: e.author, emoji: r.emoji)))
                }
            case (.equivocationProof, _):
                if let accusation = try? EquivocationProof.accusation(in: e) { equivocators.insert(accusation.author) }
            default: break   // genesis, join, purged edits/deletes/reactions: nothing to show
            }
        }

        for i in messages.indices {
            let id = messages[i].id
            if messages[i].deleted {
                messages[i].text = nil
                messages[i].originalText = nil
                messages[i].reactions = []
                messages[i].replyTo = nil
                messages[i].mentions = []
                purgeable.insert(id)
                purgeable.formUnion(editsOf[id] ?? [])
                continue
            }
            // Edits were collected in total order: the last one wins.
            if let last = editsOf[id]?.last {
                messages[i].lastEdit = last
                messages[i].text = editText[last]
            }
            let live = (adds[id] ?? []).filter { !removed.contains($0.tag) }.map(\.reaction)
            messages[i].reactions = Set(live).sorted()
        }

        settledWatermark = members.map { maxLamport[$0] ?? 0 }.min() ?? 0
    }

    /// Whether `ancestor` is reachable from `ids` by parent links among `events` (only events with
    /// a greater lamport are explored).
    static func isAncestor(_ ancestor: EventID, of ids: [EventID], in events: [EventID: Event]) -> Bool {
        guard let floor = events[ancestor]?.lamport else { return false }
        var seen: Set<EventID> = []
        var stack = ids
        while let x = stack.popLast() {
            if x == ancestor { return true }
            guard let e = events[x], e.lamport > floor, seen.insert(x).inserted else { continue }
            stack.append(contentsOf: e.allParents)
        }
        return false
    }

    /// Whether `event`'s position in the total order is final (lamport ≤ `settledWatermark`).
    public func isSettled(_ event: Event) -> Bool { event.lamport <= settledWatermark }
    /// Whether an event with this order key is settled.
    public func isSettled(_ order: EventOrder) -> Bool { order.lamport <= settledWatermark }

    /// The current members of the group in `events`: the genesis author and every JOIN author.
    public static func members(in events: [Event]) -> Set<SigningPublicKey> {
        Set(events.filter { $0.kind == .genesis || $0.kind == .join }.map(\.author))
    }
}
