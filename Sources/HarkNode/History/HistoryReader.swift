import HarkControl
import HarkCrypto
import HarkLog
import HarkStore

/// Pages of a group's messages as `log` shows them, read from the store's read model
/// (docs/HISTORY.md) without the node: it needs only the store, this node's identity key, and a
/// lookup for how to show an author. Each page costs O(page + log n) index reads, plus
/// O(members) for the settled watermark and the receipt frontiers; nothing folds history.
///
/// Value type; thread-safe if `author` is (the store is).
public struct HistoryReader: Sendable {
    /// How to show an author: display name, and the trust flags of `MessageView`.
    public struct AuthorInfo: Sendable {
        public var name: String
        public var verified: Bool
        public var nameConflict: Bool
        public init(name: String, verified: Bool = false, nameConflict: Bool = false) {
            self.name = name; self.verified = verified; self.nameConflict = nameConflict
        }
    }

    public let store: Store
    /// This node's identity key: its own messages get receipts and no `receivedMs`.
    public let me: SigningPublicKey
    public let author: @Sendable (SigningPublicKey) -> AuthorInfo

    public init(store: Store, me: SigningPublicKey, author: @escaping @Sendable (SigningPublicKey) -> AuthorInfo) {
        self.store = store
        self.me = me
        self.author = author
    }

    /// Where a page starts.
    public enum Anchor: Sendable, Equatable {
        /// The newest messages.
        case latest
        /// Messages strictly before this one in total order (the page ends just before it).
        case before(EventOrder)
        /// Messages strictly after this one (the page starts just after it).
        case after(EventOrder)
    }

    /// One page of visible (not deleted) messages in total order.
    /// - Parameters:
    ///   - members: the group's current members (settled watermark, receipts).
    ///   - limit: at most this many; nil: no bound (O(n)).
    /// - Throws: `StoreError`.
    public func page(group: EventID, members: Set<SigningPublicKey>, anchor: Anchor = .latest, limit: Int?) throws -> [MessageView] {
        let n = limit.map { max(0, $0) } ?? Int.max
        let rows: [Store.HistoryMessage]
        switch anchor {
        case .latest: rows = try store.messages(group: group, limit: n)
        case let .before(o): rows = try store.messages(group: group, limit: n, before: o)
        case let .after(o): rows = try store.messages(group: group, limit: n, after: o)
        }
        return try views(rows, group: group, members: members)
    }

    /// One message as shown, or nil if it is not a visible message of the group.
    /// - Throws: `StoreError`.
    public func message(_ id: EventID, group: EventID, members: Set<SigningPublicKey>) throws -> MessageView? {
        guard let m = try store.historyMessage(id), m.group == group, !m.deleted else { return nil }
        return try views([m], group: group, members: members).first
    }

    /// The visible messages whose ID starts with `prefix` (hex), at most 2 (to tell "ambiguous").
    /// - Throws: `StoreError`.
    public func find(_ prefix: String, group: EventID, includeDeleted: Bool = false) throws -> [Store.HistoryMessage] {
        try store.messages(group: group, idPrefix: prefix, includeDeleted: includeDeleted, limit: 2)
    }

    func views(_ rows: [Store.HistoryMessage], group: EventID, members: Set<SigningPublicKey>) throws -> [MessageView] {
        guard !rows.isEmpty else { return [] }
        let watermark = try store.settledWatermark(group: group, members: members)
        let equivocators = try store.equivocators(group: group)
        let frontiers = rows.contains { $0.author == me } ? try store.receiptFrontiers(group: group, members: members) : nil
        return rows.map { m in
            let p = PeerID(m.author)
            let info = author(m.author)
            var v = MessageView(id: m.id.hex, group: group.hex, author: p.description, authorName: info.name,
                                authorFingerprint: p.shortFingerprint, seq: m.seq, lamport: m.order.lamport, wallMs: m.wallMs,
                                kind: "message", text: m.text ?? "")
            v.settled = m.order.lamport <= watermark
            v.unreadable = m.text == nil
            if m.author != me { v.receivedMs = m.receivedMs }
            v.implausibleTime = m.implausibleTime
            v.authorEquivocated = equivocators.contains(m.author)
            v.edited = m.edited
            v.authorVerified = info.verified
            v.authorNameConflict = info.nameConflict
            if m.author == me, let frontiers {
                let states = frontiers.states(of: m)
                v.receipts = ReceiptSummary(members: states.count, delivered: states.values.filter { $0 >= .delivered }.count,
                                            read: states.values.filter { $0 == .read }.count)
            }
            v.reactions = Dictionary(grouping: m.reactions, by: \.emoji).map { ReactionView(emoji: $0.key, count: $0.value.count) }
                .sorted { $0.emoji < $1.emoji }
            addConversationFields(&v, replyTo: m.replyTo, mentions: m.mentions, group: group)
            return v
        }
    }

    /// Sets `replyTo`, `reply` (the answered message as it is shown now), `mentions` and
    /// `mentionsMe` of a view. One indexed read per reply.
    public func addConversationFields(_ v: inout MessageView, replyTo: EventID?, mentions: [SigningPublicKey], group: EventID) {
        v.mentions = mentions.map { PeerID($0).description }
        v.mentionsMe = mentions.contains(me)
        guard let replyTo else { return }
        v.replyTo = replyTo.hex
        v.reply = quote(of: replyTo, group: group)
    }

    /// The answered message `id` as a reply shows it (PROTOCOL.md §4.7.7).
    public func quote(of id: EventID, group: EventID) -> ReplyQuote {
        guard let m = try? store.historyMessage(id), m.group == group else { return ReplyQuote(state: "missing") }
        if m.deleted { return ReplyQuote(state: "deleted") }
        guard let text = m.text else { return ReplyQuote(state: "unreadable") }
        return ReplyQuote(state: "message", authorName: author(m.author).name, text: text)
    }

    /// The newest messages matching `query` (`Store.search`), in total order, as `log` shows them.
    /// - Parameter members: each group's current members (settled watermark, receipts).
    /// - Throws: `StoreError`.
    public func search(_ query: String, group: EventID?, limit: Int, before: EventID?,
                       members: (EventID) -> Set<SigningPublicKey>) throws -> [MessageView] {
        let rows = try store.search(query, group: group, limit: limit, before: before)
        var viewsByID: [EventID: MessageView] = [:]
        for (g, ms) in Dictionary(grouping: rows, by: \.group) {
            for (m, v) in zip(ms, try views(ms, group: g, members: members(g))) { viewsByID[m.id] = v }
        }
        return rows.compactMap { viewsByID[$0.id] }
    }
}
