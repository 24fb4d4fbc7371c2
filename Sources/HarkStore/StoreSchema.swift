import Foundation
import GRDB

/// The SQLite schema, applied by `DatabaseMigrator` (one migration per schema change; never
/// edit a shipped migration).
///
/// ```sql
/// -- Every stored event. group_id is the genesis ID (for a genesis: its own id).
/// -- signed is the SignedEvent envelope: header bytes exactly as received, signature, body
/// -- (re-encoded from the Event, so unknown envelope fields are not kept; the ID is unaffected).
/// event(id BLOB PK /*32 B*/, group_id BLOB NOT NULL, author BLOB /*32 B*/, seq INT, lamport INT,
///       wall_ms INT, kind INT, signed BLOB, received_ms INT)
///   INDEX event_by_order  (group_id, lamport, id)     -- total order scans
///   INDEX event_by_author (group_id, author, seq)     -- latest(author:group:)
/// event_parent(event_id BLOB, parent_id BLOB, PK (event_id, parent_id))  -- self-parent + others
///   INDEX event_parent_by_parent (parent_id)          -- dropped by drop-event-parent-by-parent
/// head(group_id BLOB, event_id BLOB, PK (group_id, event_id))  -- events without stored children
/// grp(id BLOB PK, name TEXT, group_key BLOB /*32 B, secret*/, created_ms INT, joined_ms INT)
///   INDEX grp_by_name (name)
/// peer(peer_key BLOB PK /*32 B*/, display_name TEXT, last_address TEXT NULL, last_seen_ms INT,
///      first_seen_ms INT)
/// -- v2: what failed validation, and where each peer was at the last complete sync.
/// rejected(id BLOB PK, group_id BLOB, reason TEXT, rejected_ms INT)
/// sync_heads(peer_key BLOB, group_id BLOB, heads BLOB /* n × 32 B, ascending */, updated_ms INT,
///            PK (peer_key, group_id))
/// -- v3: the heads each peer last reported holding (delivery receipts).
/// peer_holds(peer_key BLOB, group_id BLOB, heads BLOB /* n × 32 B, ascending */, updated_ms INT,
///            PK (peer_key, group_id))
/// -- v4-trust: trust on first use and verification.
/// peer.verified_ms INT NULL        -- when the user verified this identity key (hark pair); NULL: not verified
/// peer_name(name_key TEXT /* normalised display name */, peer_key BLOB, display_name TEXT,
///           first_seen_ms INT, last_seen_ms INT, PK (name_key, peer_key))   -- every key seen with each name
/// trust_warning(peer_key BLOB, name_key TEXT, other_key BLOB, display_name TEXT, created_ms INT,
///               PK (peer_key, name_key, other_key))   -- peer_key claimed a name already bound to other_key
/// -- v6-files: manifests this node offered or fetched (PROTOCOL.md §9); sources is the
/// -- node's JSON list of local files, NULL until the files are complete here.
/// shared_file(manifest_id BLOB PK /*32 B*/, group_id BLOB, manifest BLOB, sources BLOB NULL, updated_ms INT)
/// -- v7-read-model: the read model's tables, listed on `ReadModelSchema` (docs/HISTORY.md).
/// -- v7-history-index: validation from the store (Store+History.swift).
///   INDEX event_by_rare_kind (group_id, lamport, id) WHERE kind IN (GENESIS, JOIN, EQUIVOCATION_PROOF, MEMBER, PREKEY)
/// membership_ancestry(event_id BLOB PK, group_id BLOB, ancestors BLOB /* n × 32 B, ascending */)
///   INDEX membership_ancestry_by_group (group_id)
/// -- peer-local: what this node's user decided about a key (never sent to peers).
/// peer_local(peer_key BLOB PK /*32 B*/, alias TEXT NULL /* a local name */, alias_key TEXT UNIQUE NULL /* nameKey(alias) */,
///            blocked_ms INT NULL /* when the user blocked the key; NULL: not blocked */)
/// -- events-in-arrival-order: event and rm_message become rowid tables with a unique index on
/// -- id (`EventLayoutSchema`); columns and other indexes unchanged.
/// -- event-file-offer-index:
///   INDEX event_file_offer (group_id, lamport, id) WHERE kind = FILE_OFFER
/// -- rm-mention-and-remove-indexes:
///   INDEX rm_mention_by_message (message); INDEX rm_remove_by_remover (remover)
/// -- drop-event-parent-by-parent: no index on event_parent(parent_id) (`EventParentSchema`).
/// ```
/// Times are ms since the Unix epoch. seq and lamport are stored as signed 64-bit integers.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE event (
                    id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    lamport INTEGER NOT NULL,
                    wall_ms INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    signed BLOB NOT NULL,
                    received_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX event_by_order ON event(group_id, lamport, id);
                CREATE INDEX event_by_author ON event(group_id, author, seq);

                CREATE TABLE event_parent (
                    event_id BLOB NOT NULL REFERENCES event(id),
                    parent_id BLOB NOT NULL REFERENCES event(id),
                    PRIMARY KEY (event_id, parent_id)
                ) WITHOUT ROWID;
                CREATE INDEX event_parent_by_parent ON event_parent(parent_id);

                CREATE TABLE head (
                    group_id BLOB NOT NULL,
                    event_id BLOB NOT NULL REFERENCES event(id),
                    PRIMARY KEY (group_id, event_id)
                ) WITHOUT ROWID;

                CREATE TABLE grp (
                    id BLOB PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    group_key BLOB NOT NULL,
                    created_ms INTEGER NOT NULL,
                    joined_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX grp_by_name ON grp(name);

                CREATE TABLE peer (
                    peer_key BLOB PRIMARY KEY NOT NULL,
                    display_name TEXT NOT NULL,
                    last_address TEXT,
                    last_seen_ms INTEGER NOT NULL,
                    first_seen_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE rejected (
                    id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    reason TEXT NOT NULL,
                    rejected_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE sync_heads (
                    peer_key BLOB NOT NULL,
                    group_id BLOB NOT NULL,
                    heads BLOB NOT NULL,
                    updated_ms INTEGER NOT NULL,
                    PRIMARY KEY (peer_key, group_id)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE peer_holds (
                    peer_key BLOB NOT NULL,
                    group_id BLOB NOT NULL,
                    heads BLOB NOT NULL,
                    updated_ms INTEGER NOT NULL,
                    PRIMARY KEY (peer_key, group_id)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v4-trust") { db in
            try db.execute(sql: """
                ALTER TABLE peer ADD COLUMN verified_ms INTEGER;
                CREATE TABLE peer_name (
                    name_key TEXT NOT NULL,
                    peer_key BLOB NOT NULL,
                    display_name TEXT NOT NULL,
                    first_seen_ms INTEGER NOT NULL,
                    last_seen_ms INTEGER NOT NULL,
                    PRIMARY KEY (name_key, peer_key)
                ) WITHOUT ROWID;
                CREATE TABLE trust_warning (
                    peer_key BLOB NOT NULL,
                    name_key TEXT NOT NULL,
                    other_key BLOB NOT NULL,
                    display_name TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    PRIMARY KEY (peer_key, name_key, other_key)
                ) WITHOUT ROWID;
                """)
            // Peers known before this migration: each key is first-use bound to its last name.
            for row in try Row.fetchAll(db, sql: "SELECT peer_key, display_name, first_seen_ms, last_seen_ms FROM peer") {
                let name: String = row["display_name"]
                try db.execute(sql: "INSERT OR IGNORE INTO peer_name VALUES (?, ?, ?, ?, ?)", arguments: [
                    Store.nameKey(name), row["peer_key"] as Data, name, row["first_seen_ms"] as Int64, row["last_seen_ms"] as Int64,
                ])
            }
        }
        m.registerMigration("v5-sender-keys") { db in
            // Sender keys (PROTOCOL.md §5.4): this node's chain per group, the chains of others as
            // far as used, and the plaintext of MESSAGE/EDIT bodies whose keys were deleted after use.
            try db.execute(sql: """
                CREATE TABLE chain_out (
                    group_id BLOB PRIMARY KEY NOT NULL,
                    epoch INTEGER NOT NULL,
                    chain_key BLOB NOT NULL,
                    next_index INTEGER NOT NULL,
                    created_ms INTEGER NOT NULL,
                    view BLOB NOT NULL,
                    sent INTEGER NOT NULL,
                    start_key BLOB,
                    pending BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE chain_in (
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    epoch INTEGER NOT NULL,
                    chain_key BLOB NOT NULL,
                    next_index INTEGER NOT NULL,
                    skipped BLOB NOT NULL,
                    PRIMARY KEY (group_id, author, epoch)
                ) WITHOUT ROWID;
                CREATE TABLE plaintext (
                    event_id BLOB PRIMARY KEY NOT NULL,
                    content BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v6-files") { db in
            try db.execute(sql: """
                CREATE TABLE shared_file (
                    manifest_id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    manifest BLOB NOT NULL,
                    sources BLOB,
                    updated_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        ReadModelSchema.register(&m)
        m.registerMigration("v7-history-index") { db in
            // Validation without the whole history in memory: the few events that decide
            // membership and equivocation, by group; and per membership event, the membership
            // events among its ancestors (ancestors: n × 32 B, ascending), recorded as events
            // are stored.
            try db.execute(sql: """
                CREATE INDEX event_by_rare_kind ON event(group_id, lamport, id) WHERE \(Store.rareKindsSQL);
                CREATE TABLE membership_ancestry (
                    event_id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    ancestors BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX membership_ancestry_by_group ON membership_ancestry(group_id);
                """)
        }
        m.registerMigration("peer-local") { db in
            try db.execute(sql: """
                CREATE TABLE peer_local (
                    peer_key BLOB PRIMARY KEY NOT NULL,
                    alias TEXT,
                    alias_key TEXT UNIQUE,
                    blocked_ms INTEGER
                ) WITHOUT ROWID;
                """)
        }
        EventLayoutSchema.register(&m)
        ConversationSchema.register(&m)
        m.registerMigration("shared-history-keys") { db in
            // Shared history (PROTOCOL.md §5.8): in groups whose genesis says shared history, the
            // earliest chain key held of each sender chain (to seal to new members), and the
            // members this node added whose history share waits for their prekey.
            try db.execute(sql: """
                CREATE TABLE chain_history (
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    epoch INTEGER NOT NULL,
                    first_index INTEGER NOT NULL,
                    chain_key BLOB NOT NULL,
                    PRIMARY KEY (group_id, author, epoch)
                ) WITHOUT ROWID;
                CREATE TABLE history_share_pending (
                    group_id BLOB NOT NULL,
                    member BLOB NOT NULL,
                    PRIMARY KEY (group_id, member)
                ) WITHOUT ROWID;
                """)
        }
        // Immediate foreign key checks: an index cannot break one, and the deferred check at the
        // end of a migration reads every row of `event_parent` and `head` (6 s at 1M events).
        m.registerMigration("rm-mention-and-remove-indexes", foreignKeyChecks: .immediate) { db in
            // The read model replaces a message's mention rows each time it is stored, and drops
            // a REACTION's remove rows when its content goes: by message and by remover, which
            // the primary keys (member first, tag first) cannot answer without a scan of the table.
            try db.execute(sql: """
                CREATE INDEX rm_mention_by_message ON rm_mention(message);
                CREATE INDEX rm_remove_by_remover ON rm_remove(remover);
                """)
        }
        EventParentSchema.register(&m)
        return m
    }
}
