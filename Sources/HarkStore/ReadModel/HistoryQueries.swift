import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

/// Paged reads of the read model (docs/HISTORY.md). Each costs O(log n) index seeks plus the
/// rows returned; none folds history. Thread-safe like every `Store` method (each is one read
/// transaction).
extension Store {
    /// A MESSAGE as shown, from `rm_message`: equal to the `GroupState.Message` the fold gives,
    /// plus what the fold keeps in sets (flags) and the author's seq. Value type; thread-safe.
    public struct HistoryMessage: Sendable, Equatable {
        public let id: EventID
        public let group: EventID
        public let author: SigningPublicKey
        /// The author's number in the group's version vectors (internal to the store).
        let authorIndex: Int
        public let seq: UInt64
        public let order: EventOrder
        /// Author's clock, ms since the Unix epoch.
        public let wallMs: Int64
        /// When this node stored it, ms since the Unix epoch.
        public let receivedMs: Int64
        /// As `GroupState.Message.text`: the latest edit's text, else the original; nil when
        /// deleted or unreadable here.
        public let text: String?
        public let originalText: String?
        /// The EDIT whose text is shown.
        public let lastEdit: EventID?
        public let deleted: Bool
        /// The sorted live reactions (`GroupState.Reaction.<`); empty when deleted.
        public let reactions: [GroupState.Reaction]
        /// As `GroupState.implausibleTime.contains(id)`.
        public let implausibleTime: Bool
        /// As `GroupState.Message.replyTo`: the message this one answers (may not be held here).
        public var replyTo: EventID? = nil
        /// As `GroupState.Message.mentions`: the keys it addresses.
        public var mentions: [SigningPublicKey] = []
        public var edited: Bool { lastEdit != nil }
    }

    /// Counters of one group's read model.
    public struct HistoryCounts: Sendable, Equatable {
        /// Events stored (including the genesis).
        public let events: Int
        /// MESSAGE events stored (deleted ones included).
        public let messages: Int
        public init(events: Int, messages: Int) { self.events = events; self.messages = messages }
    }

    static let messageColumns = """
        id, group_id, author, author_ix, seq, lamport, wall_ms, received_ms, text, original_text, last_edit, deleted,
        implausible, reactions, reply_to, mentions
        """

    /// One page of a group's messages, in total order (lamport, ID) ascending.
    /// - Parameters:
    ///   - limit: at most this many (≤ 0: none).
    ///   - before: only messages strictly before this position; the page is the last `limit` of them.
    ///   - after: only messages strictly after this position; the page is the first `limit` of them
    ///     (ignored when `before` is given).
    ///   - includeDeleted: also deleted messages (for the fold's equality tests); `log` hides them.
    ///   With neither anchor: the latest `limit` messages.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func messages(group: EventID, limit: Int, before: EventOrder? = nil, after: EventOrder? = nil,
                         includeDeleted: Bool = false) throws(StoreError) -> [HistoryMessage] {
        guard limit > 0 else { return [] }
        let deleted = includeDeleted ? "" : "AND deleted = 0"
        return try read("read messages of \(group)") { db in
            let rows: [Row]
            if let before {
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.messageColumns) FROM rm_message WHERE group_id = ? AND (lamport, id) < (?, ?) \(deleted)
                    ORDER BY lamport DESC, id DESC LIMIT ?
                    """, arguments: [group.data, try Self.int(before.lamport), before.id.data, limit]).reversed()
            } else if let after {
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.messageColumns) FROM rm_message WHERE group_id = ? AND (lamport, id) > (?, ?) \(deleted)
                    ORDER BY lamport, id LIMIT ?
                    """, arguments: [group.data, try Self.int(after.lamport), after.id.data, limit])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.messageColumns) FROM rm_message WHERE group_id = ? \(deleted)
                    ORDER BY lamport DESC, id DESC LIMIT ?
                    """, arguments: [group.data, limit]).reversed()
            }
            return try rows.map { row throws(StoreError) in try row.historyMessage() }
        }
    }

    /// One message, or nil if `id` is not a MESSAGE of the read model. - Throws: `StoreError.corrupt`, `.database`.
    public func historyMessage(_ id: EventID) throws(StoreError) -> HistoryMessage? {
        try read("read message \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.messageColumns) FROM rm_message WHERE id = ?", arguments: [id.data])?.historyMessage()
        }
    }

    /// The group's messages whose ID starts with the hex digits `prefix` (at most `limit`,
    /// by ID): one index range, O(log n + limit).
    /// - Throws: `StoreError.corrupt`, `.database`. A prefix that is not hex matches nothing.
    public func messages(group: EventID, idPrefix prefix: String, includeDeleted: Bool = false,
                         limit: Int = 2) throws(StoreError) -> [HistoryMessage] {
        guard let (low, high) = Self.idRange(hexPrefix: prefix) else { return [] }
        let deleted = includeDeleted ? "" : "AND deleted = 0"
        // `+group_id`: the primary-key range, never a scan of the group's index.
        return try read("look up message \(prefix)") { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns) FROM rm_message WHERE id BETWEEN ? AND ? AND +group_id = ? \(deleted) ORDER BY id LIMIT ?
                """, arguments: [Data(low), Data(high), group.data, max(0, limit)]).map { row throws(StoreError) in try row.historyMessage() }
        }
    }

    /// The lowest and highest 32-byte IDs starting with `hexPrefix` (1 to 64 hex digits).
    static func idRange(hexPrefix: String) -> ([UInt8], [UInt8])? {
        let digits = Array(hexPrefix.lowercased().utf8)
        guard !digits.isEmpty, digits.count <= 64 else { return nil }
        var low = [UInt8](repeating: 0, count: 32), high = [UInt8](repeating: 0xff, count: 32)
        for (i, d) in digits.enumerated() {
            let v: UInt8
            switch d {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = d - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = d - UInt8(ascii: "a") + 10
            default: return nil
            }
            if i % 2 == 0 {
                low[i / 2] = v << 4
                high[i / 2] = v << 4 | 0x0f
            } else {
                low[i / 2] |= v
                high[i / 2] = (high[i / 2] & 0xf0) | v
            }
        }
        return (low, high)
    }

    /// Event and message counts of a group (zeros for an unknown group). - Throws: `StoreError.database`.
    public func historyCounts(group: EventID) throws(StoreError) -> HistoryCounts {
        try read("read counts of \(group)") { db in
            let row = try Row.fetchOne(db, sql: "SELECT events, messages FROM rm_group WHERE group_id = ?", arguments: [group.data])
            return HistoryCounts(events: row?["events"] ?? 0, messages: row?["messages"] ?? 0)
        }
    }

    /// The settled watermark (`GroupState.settledWatermark`): min over `members` of the greatest
    /// lamport delivered from each (0 for a member with none). O(members · log n).
    /// - Throws: `StoreError.database`.
    public func settledWatermark(group: EventID, members: Set<SigningPublicKey>) throws(StoreError) -> UInt64 {
        guard !members.isEmpty else { return 0 }
        return try read("read settled watermark") { db in
            var low = UInt64.max
            let stmt = try db.cachedStatement(sql: "SELECT max_lamport FROM rm_author WHERE group_id = ? AND author = ?")
            for m in members {
                let l = try Int64.fetchOne(stmt, arguments: [group.data, Data(m.bytes)]) ?? 0
                low = min(low, UInt64(max(0, l)))
            }
            return low
        }
    }

    /// Authors of the group known to have equivocated (`GroupState.equivocators`): a fork stored
    /// here or a valid EQUIVOCATION_PROOF. - Throws: `StoreError.corrupt`, `.database`.
    public func equivocators(group: EventID) throws(StoreError) -> Set<SigningPublicKey> {
        try read("read equivocators") { db in
            var out: Set<SigningPublicKey> = []
            for row in try Row.fetchAll(db, sql: "SELECT author FROM rm_author WHERE group_id = ? AND equivocated = 1",
                                        arguments: [group.data]) {
                out.insert(try row.signingKey("author", "rm_author"))
            }
            return out
        }
    }

    /// Authors of a GENESIS or JOIN in the group, by their first such event in total order
    /// (`GroupState.members(in:)`, ordered). - Throws: `StoreError.corrupt`, `.database`.
    public func joinedAuthors(group: EventID) throws(StoreError) -> [SigningPublicKey] {
        try read("read joined authors") { db in
            try Row.fetchAll(db, sql: """
                SELECT author FROM rm_author WHERE group_id = ? AND member_lamport IS NOT NULL ORDER BY member_lamport, member_id
                """, arguments: [group.data]).map { row throws(StoreError) in try row.signingKey("author", "rm_author") }
        }
    }

    /// Every author with an event in the group (or accused there), by number. O(authors).
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func authors(group: EventID) throws(StoreError) -> [SigningPublicKey] {
        try read("read authors") { db in
            try Row.fetchAll(db, sql: "SELECT author FROM rm_author WHERE group_id = ? ORDER BY ix", arguments: [group.data])
                .map { row throws(StoreError) in try row.signingKey("author", "rm_author") }
        }
    }

    /// The display name each author gave in its first GENESIS or JOIN of the group (content
    /// the group key opens). - Throws: `StoreError.corrupt`, `.database`.
    public func authorNames(group: EventID) throws(StoreError) -> [SigningPublicKey: String] {
        try read("read author names") { db in
            var out: [SigningPublicKey: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT author, name FROM rm_author WHERE group_id = ? AND name IS NOT NULL",
                                        arguments: [group.data]) {
                out[try row.signingKey("author", "rm_author")] = try row.text("name", "rm_author")
            }
            return out
        }
    }

    /// The REACTION events of `author` adding `emoji` to `target` (removed since or not): what
    /// withdrawing that reaction removes (OR-set). O(log n + reactions on the target).
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func reactionTags(target: EventID, author: SigningPublicKey, emoji: String) throws(StoreError) -> [EventID] {
        try read("read reactions") { db in
            try Row.fetchAll(db, sql: "SELECT id FROM rm_op WHERE target = ? AND kind = ? AND author = ? AND emoji = ? ORDER BY lamport, id",
                             arguments: [target.data, Hark_V1_EventKind.reaction.rawValue, Data(author.bytes), emoji])
                .map { row throws(StoreError) in try row.eventID("id", "rm_op") }
        }
    }

    // MARK: receipts and unread counts

    /// What receipts are derived from (PROTOCOL.md §4.8, docs/HISTORY.md §"Receipts"): for each
    /// member, the pointwise max of the version vectors of its events, of its READ events, and
    /// of the heads its node reported holding. Value type; thread-safe.
    public struct ReceiptFrontiers: Sendable {
        struct Member: Sendable {
            var all = VersionVector(), read = VersionVector(), holds = VersionVector()
        }
        let members: [SigningPublicKey: Member]

        /// The state of `message` for every member but its author: read when a READ of the
        /// member covers it, delivered when any event of the member or a head it reported
        /// covers it, else pending. O(members). Equal to `Receipts.states` unless the message's
        /// author equivocated (then a branch sibling with the same seq also counts).
        public func states(of message: HistoryMessage) -> [SigningPublicKey: ReceiptState] {
            var out: [SigningPublicKey: ReceiptState] = [:]
            let ix = message.authorIndex, seq = message.seq
            for (key, m) in members where key != message.author {
                if m.read[ix] >= seq { out[key] = .read } else if m.all[ix] >= seq || m.holds[ix] >= seq {
                    out[key] = .delivered
                } else {
                    out[key] = .pending
                }
            }
            return out
        }
    }

    /// The receipt frontiers of `members` in `group`. O(members · log n).
    /// - Throws: `StoreError.database`.
    public func receiptFrontiers(group: EventID, members: Set<SigningPublicKey>) throws(StoreError) -> ReceiptFrontiers {
        try read("read receipt frontiers") { db in
            var out: [SigningPublicKey: ReceiptFrontiers.Member] = [:]
            let author = try db.cachedStatement(sql: "SELECT vv_all, vv_read FROM rm_author WHERE group_id = ? AND author = ?")
            let holds = try db.cachedStatement(sql: "SELECT vv FROM peer_holds WHERE group_id = ? AND peer_key = ?")
            for m in members {
                var f = ReceiptFrontiers.Member()
                if let row = try Row.fetchOne(author, arguments: [group.data, Data(m.bytes)]) {
                    f.all = VersionVector(decoding: [UInt8](row["vv_all"] as Data? ?? Data()))
                    f.read = VersionVector(decoding: [UInt8](row["vv_read"] as Data? ?? Data()))
                }
                if let raw = try Data.fetchOne(holds, arguments: [group.data, Data(m.bytes)]) {
                    f.holds = VersionVector(decoding: [UInt8](raw))
                }
                out[m] = f
            }
            return ReceiptFrontiers(members: out)
        }
    }

    /// How many messages of others `reader` has not read: not deleted, and not covered by any
    /// READ event of `reader` (docs/HISTORY.md §"Unread counts"). O(authors · log n).
    /// - Throws: `StoreError.database`.
    public func unreadCount(group: EventID, reader: SigningPublicKey) throws(StoreError) -> Int {
        try read("count unread messages") { db in
            let read = try Data.fetchOne(db, sql: "SELECT vv_read FROM rm_author WHERE group_id = ? AND author = ?",
                                         arguments: [group.data, Data(reader.bytes)]).map { VersionVector(decoding: [UInt8]($0)) }
                ?? VersionVector()
            let ordinal = try db.cachedStatement(sql: """
                SELECT ordinal FROM rm_message WHERE group_id = ? AND author_ix = ? AND seq <= ? ORDER BY seq DESC LIMIT 1
                """)
            let deleted = try db.cachedStatement(sql: """
                SELECT COUNT(*) FROM rm_message WHERE group_id = ? AND author_ix = ? AND seq > ? AND deleted = 1
                """)
            var total = 0
            for row in try Row.fetchAll(db, sql: "SELECT author, ix, messages FROM rm_author WHERE group_id = ? AND messages > 0",
                                        arguments: [group.data]) {
                guard (row["author"] as Data) != Data(reader.bytes) else { continue }
                let ix: Int = row["ix"], messages: Int = row["messages"]
                let covered = Int64(clamping: read[ix])
                let seen = try Int.fetchOne(ordinal, arguments: [group.data, ix, covered]) ?? 0
                let gone = try Int.fetchOne(deleted, arguments: [group.data, ix, covered]) ?? 0
                total += max(0, messages - seen - gone)
            }
            return total
        }
    }

    static func int(_ v: UInt64) throws(StoreError) -> Int64 { try storable(v, "lamport") }
}

extension Row {
    func historyMessage() throws(StoreError) -> Store.HistoryMessage {
        let t = "rm_message"
        let id = try eventID("id", t)
        let lastEdit = try optionalBlob("last_edit", t).flatMap { try? EventID(bytes: $0) }
        let group = try eventID("group_id", t)
        let author = try signingKey("author", t)
        let rawIndex = try int64("author_ix", t)
        let authorIndex = Int(rawIndex)
        let rawSeq = try int64("seq", t), rawLamport = try int64("lamport", t)
        let seq = UInt64(Swift.max(0, rawSeq)), lamport = UInt64(Swift.max(0, rawLamport))
        let wallMs = try int64("wall_ms", t)
        let receivedMs = try int64("received_ms", t)
        let text = try optionalText("text", t)
        let originalText = try optionalText("original_text", t)
        let rawDeleted = try int64("deleted", t)
        let deleted = rawDeleted != 0
        let rawReactions = try optionalBlob("reactions", t)
        let reactions = ReactionCoding.decode(rawReactions ?? [])
        let rawImplausible = try int64("implausible", t)
        let implausible = rawImplausible != 0
        var m = Store.HistoryMessage(id: id, group: group, author: author, authorIndex: authorIndex, seq: seq,
                                     order: EventOrder(lamport: lamport, id: id), wallMs: wallMs, receivedMs: receivedMs,
                                     text: text, originalText: originalText, lastEdit: lastEdit, deleted: deleted,
                                     reactions: reactions, implausibleTime: implausible)
        m.replyTo = try optionalBlob("reply_to", t).flatMap { try? EventID(bytes: $0) }
        m.mentions = TextFields.decode(try optionalBlob("mentions", t) ?? [])
        return m
    }
}
