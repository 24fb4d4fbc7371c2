import Foundation
import GRDB
import HarkCrypto
import HarkLog

/// Full-text search and mention counts over the read model (`ConversationSchema`,
/// docs/HISTORY.md §"Replies, mentions and search"). Thread-safe like every `Store` method.
extension Store {
    /// The FTS5 expression for a user's query: each whitespace-separated word becomes a quoted
    /// term (so punctuation and FTS5 operators in it are plain text), all required; a word
    /// ending in `*` matches as a prefix. Nil when the query has no word (or more than 32).
    public static func searchExpression(_ query: String) -> String? {
        let words = query.split(whereSeparator: \.isWhitespace)
        guard !words.isEmpty, words.count <= 32 else { return nil }
        return words.map { w -> String in
            var word = String(w)
            var prefix = false
            if word.hasSuffix("*"), word.count > 1 { word.removeLast(); prefix = true }
            return "\"" + word.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (prefix ? "*" : "")
        }.joined(separator: " ")
    }

    /// The newest visible messages whose shown text matches `query` (`searchExpression`), in
    /// total order ascending, at most `limit`: those of `group` (nil: every group), and with
    /// `before`, only those found before that message (by lamport; within one lamport, indexed
    /// earlier). One walk of FTS5's doclists by descending rowid, stopping after `limit` rows of
    /// the group: O(limit + matches in other groups skipped) plus the query terms' lookups.
    /// A query with no words returns nothing.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func search(_ query: String, group: EventID?, limit: Int, before: EventID? = nil) throws(StoreError) -> [HistoryMessage] {
        guard limit > 0, let expr = Self.searchExpression(query) else { return [] }
        return try read("search messages") { db in
            var below = Int64.max
            if let before {
                if let r = try Int64.fetchOne(db, sql: "SELECT rowid FROM rm_search_doc WHERE id = ?", arguments: [before.data]) {
                    below = r
                } else if let l = try Int64.fetchOne(db, sql: "SELECT lamport FROM rm_message WHERE id = ?", arguments: [before.data]) {
                    below = l << ConversationSchema.slotBits
                }
            }
            let groupFilter = group == nil ? "" : "AND d.group_id = ?"
            var args: StatementArguments = [expr, below]
            if let group { _ = args.append(contentsOf: [group.data]) }
            _ = args.append(contentsOf: [limit])
            let ids = try Data.fetchAll(db, sql: """
                SELECT d.id FROM rm_search s JOIN rm_search_doc d ON d.rowid = s.rowid
                WHERE rm_search MATCH ? AND s.rowid < ? \(groupFilter) ORDER BY s.rowid DESC LIMIT ?
                """, arguments: args)
            let one = try db.cachedStatement(sql: "SELECT \(Self.messageColumns) FROM rm_message WHERE id = ?")
            var out: [HistoryMessage] = []
            for raw in ids {
                guard let row = try Row.fetchOne(one, arguments: [raw]) else { continue }
                let m = try row.historyMessage()
                if !m.deleted, m.text != nil { out.append(m) }
            }
            return out.sorted { $0.order < $1.order }
        }
    }

    /// How many messages of others mention `member` and are not read by it: not deleted, and not
    /// covered by a READ event of `member` (as `unreadCount`). O(mentions of `member` in the group).
    /// - Throws: `StoreError.database`.
    public func unreadMentionCount(group: EventID, member: SigningPublicKey) throws(StoreError) -> Int {
        try read("count unread mentions") { db in
            let ix = try Int.fetchOne(db, sql: "SELECT ix FROM rm_author WHERE group_id = ? AND author = ?",
                                      arguments: [group.data, Data(member.bytes)])
            let read = try Data.fetchOne(db, sql: "SELECT vv_read FROM rm_author WHERE group_id = ? AND author = ?",
                                         arguments: [group.data, Data(member.bytes)]).map { VersionVector(decoding: [UInt8]($0)) }
                ?? VersionVector()
            var n = 0
            for row in try Row.fetchAll(db, sql: """
                SELECT author_ix, seq FROM rm_mention WHERE member = ? AND group_id = ?
                """, arguments: [Data(member.bytes), group.data]) {
                let a: Int = row["author_ix"], seq: Int64 = row["seq"]
                if a == ix { continue }
                if Int64(clamping: read[a]) < seq { n += 1 }
            }
            return n
        }
    }
}

extension Store {
    /// What the search index holds for `group`: message ID → indexed text. O(index entries of
    /// the group). For consistency checks (the read-model property test). - Throws: `StoreError`.
    func searchIndexEntries(group: EventID) throws(StoreError) -> [EventID: String] {
        try read("read search index") { db in
            var out: [EventID: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT d.id, s.text FROM rm_search_doc d JOIN rm_search s ON s.rowid = d.rowid WHERE d.group_id = ?
                """, arguments: [group.data]) {
                out[try row.eventID("id", "rm_search_doc")] = try row.text("text", "rm_search")
            }
            return out
        }
    }

    /// Takes a store back to before migration `rm-replies-mentions-search` (its tables and
    /// columns dropped, the migration unrecorded), keeping the rest of the read model, so a test
    /// can check what the migration builds from existing rows. Test support only.
    static func dropConversationSchemaForTesting(path: String) throws {
        let pool = try DatabasePool(path: path)
        try pool.write { db in
            try db.execute(sql: """
                DROP TABLE rm_search; DROP TABLE rm_search_doc; DROP TABLE rm_mention;
                ALTER TABLE rm_message DROP COLUMN reply_to; ALTER TABLE rm_message DROP COLUMN mentions;
                DELETE FROM grdb_migrations WHERE identifier = 'rm-replies-mentions-search';
                """)
        }
    }
}
