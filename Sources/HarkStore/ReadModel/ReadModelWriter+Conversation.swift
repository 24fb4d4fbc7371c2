import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

/// A MESSAGE's reply and mention fields as the read model stores them (`ConversationSchema`).
struct TextFieldsRow {
    var replyTo: Data?
    var mentions: [SigningPublicKey] = []
    var mentionsBlob: Data? { mentions.isEmpty ? nil : TextFields.encode(mentions) }

    init() {}
    init(_ t: Hark_V1_Text) {
        replyTo = TextFields.replyTo(t)?.data
        mentions = TextFields.mentions(t)
    }
}

/// Mentions and the full-text index (docs/HISTORY.md §"Replies, mentions and search"), written in
/// the caller's transaction like the rest of the read model. Not thread-safe (one writer).
extension ReadModelWriter {
    /// Replaces the `rm_mention` rows of one message. O(mentions · log n).
    func setMentions(_ id: EventID, group: EventID, authorIx: Int, seq: Int64, _ keys: [SigningPublicKey]) throws {
        try db.cachedStatement(sql: "DELETE FROM rm_mention WHERE message = ?").execute(arguments: [id.data])
        let insert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO rm_mention (member, group_id, message, author_ix, seq) VALUES (?, ?, ?, ?, ?)
            """)
        for k in keys { try insert.execute(arguments: [Data(k.bytes), group.data, id.data, authorIx, seq]) }
    }

    /// Makes the search index hold `text` for message `id` (nil: not at all). Unchanged text
    /// costs one lookup; a change deletes the old entry and inserts the new one under the same
    /// rowid. A message gets the next free slot of its lamport (`ConversationSchema`); if all
    /// 2^20 slots of a lamport are taken it is not indexed. `isNew`: the message was stored in this
    /// transaction, so it has no entry yet (saves the look-up).
    func syncSearch(_ id: EventID, group: EventID, lamport: Int64, text: String?, isNew: Bool = false) throws {
        let existing = isNew ? nil
            : try Int64.fetchOne(db.cachedStatement(sql: "SELECT rowid FROM rm_search_doc WHERE id = ?"), arguments: [id.data])
        guard let text, !text.isEmpty else {
            if existing != nil { try removeFromSearch(id) }
            return
        }
        if let rowid = existing {
            let old = try String.fetchOne(db.cachedStatement(sql: "SELECT text FROM rm_search WHERE rowid = ?"), arguments: [rowid])
            if old == text { return }
            try db.cachedStatement(sql: "DELETE FROM rm_search WHERE rowid = ?").execute(arguments: [rowid])
            try db.cachedStatement(sql: "INSERT INTO rm_search (rowid, text) VALUES (?, ?)").execute(arguments: [rowid, text])
            return
        }
        guard lamport >= 0, lamport < (Int64(1) << (63 - ConversationSchema.slotBits)) else { return }
        let base = lamport << ConversationSchema.slotBits
        let top = base + (Int64(1) << ConversationSchema.slotBits) - 1
        if searchTop == nil { searchTop = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(rowid) FROM rm_search_doc")) ?? -1 }
        // In lamport order (a sync, a run of sends) every new lamport lies above all entries.
        let last = base > (searchTop ?? -1) ? nil
            : try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(rowid) FROM rm_search_doc WHERE rowid BETWEEN ? AND ?"),
                                 arguments: [base, top])
        let rowid = last.map { $0 + 1 } ?? base
        guard rowid <= top else { return }
        searchTop = max(searchTop ?? -1, rowid)
        try db.cachedStatement(sql: "INSERT INTO rm_search_doc (rowid, id, group_id) VALUES (?, ?, ?)")
            .execute(arguments: [rowid, id.data, group.data])
        try db.cachedStatement(sql: "INSERT INTO rm_search (rowid, text) VALUES (?, ?)").execute(arguments: [rowid, text])
    }

    /// Drops message `id` from the search index, if it is there.
    func removeFromSearch(_ id: EventID) throws {
        guard let rowid = try Int64.fetchOne(db.cachedStatement(sql: "SELECT rowid FROM rm_search_doc WHERE id = ?"),
                                             arguments: [id.data]) else { return }
        try db.cachedStatement(sql: "DELETE FROM rm_search WHERE rowid = ?").execute(arguments: [rowid])
        try db.cachedStatement(sql: "DELETE FROM rm_search_doc WHERE rowid = ?").execute(arguments: [rowid])
    }
}
