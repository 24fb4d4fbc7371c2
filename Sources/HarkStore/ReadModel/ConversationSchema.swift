import GRDB

/// Read-model tables for replies, mentions and full-text search (docs/HISTORY.md
/// §"Replies, mentions and search"), added to a store that has the read model.
///
/// ```sql
/// -- rm-replies-mentions-search
/// rm_message.reply_to BLOB NULL     -- Text.reply_to (32 B) of a visible message
/// rm_message.mentions BLOB NULL     -- Text.mentions: n × 32 B keys (TextFields.encode)
/// rm_mention(member BLOB, group_id BLOB, message BLOB, author_ix INT, seq INT,
///            PK (member, group_id, message))       -- one row per (mentioned key, visible message)
/// rm_search_doc(rowid INTEGER PK /* lamport << 20 | slot */, id BLOB UNIQUE, group_id BLOB)
/// rm_search USING fts5(text)        -- rowid = rm_search_doc.rowid; the shown text of each visible, readable message
/// ```
///
/// A search rowid orders by lamport (the high bits), so a page of matches in reverse total order
/// is a walk of FTS5's doclists by descending rowid, never a sort of all matches. The low 20 bits
/// number the messages of one lamport (across groups) in the order they were indexed.
enum ConversationSchema {
    /// Low bits of a search rowid that number the messages sharing a lamport.
    static let slotBits: Int64 = 20

    static func register(_ m: inout DatabaseMigrator) {
        m.registerMigration("rm-replies-mentions-search") { db in
            try db.execute(sql: """
                ALTER TABLE rm_message ADD COLUMN reply_to BLOB;
                ALTER TABLE rm_message ADD COLUMN mentions BLOB;
                CREATE TABLE rm_mention (
                    member BLOB NOT NULL,
                    group_id BLOB NOT NULL,
                    message BLOB NOT NULL,
                    author_ix INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (member, group_id, message)
                ) WITHOUT ROWID;
                CREATE TABLE rm_search_doc (
                    rowid INTEGER PRIMARY KEY,
                    id BLOB NOT NULL UNIQUE,
                    group_id BLOB NOT NULL
                );
                CREATE VIRTUAL TABLE rm_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
                INSERT INTO rm_search_doc (rowid, id, group_id)
                    SELECT (lamport << \(slotBits)) + slot, id, group_id FROM (
                        SELECT lamport, id, group_id, ROW_NUMBER() OVER (PARTITION BY lamport ORDER BY group_id, id) - 1 AS slot
                        FROM rm_message WHERE text IS NOT NULL AND deleted = 0)
                    WHERE slot < (1 << \(slotBits));
                INSERT INTO rm_search (rowid, text)
                    SELECT d.rowid, m.text FROM rm_search_doc d JOIN rm_message m ON m.id = d.id;
                """)
        }
    }
}
