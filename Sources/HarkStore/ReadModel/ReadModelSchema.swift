import GRDB

/// The read model's tables (docs/HISTORY.md): the visible state of every group, kept up to date
/// in the same transaction that stores an event or its plaintext, so that no read folds history.
///
/// ```sql
/// -- v7-read-model
/// event.vv BLOB NULL          -- the event's version vector (VersionVector); NULL: not indexed yet
/// event.wall_max INT NULL      -- M(e) of PROTOCOL.md §4.7.4: greatest plausible wall_ms of it and its ancestors
///   INDEX event_unindexed (group_id, lamport, id) WHERE vv IS NULL   -- empty once caught up
/// peer_holds.vv BLOB NULL     -- pointwise max of the vectors of the reported heads held here
/// rm_group(group_id BLOB PK, rules INT /* Genesis.rules, -1 unknown */, events INT, messages INT)
/// rm_author(group_id, author BLOB /*32 B*/, ix INT /* number in the group's vectors */,
///           max_lamport INT, max_seq INT, messages INT, member_lamport INT NULL, member_id BLOB NULL
///           /* first GENESIS/JOIN */, vv_all BLOB /* max over its events */, vv_read BLOB /* max over its READs */,
///           equivocated INT, name TEXT NULL /* display name in its first GENESIS/JOIN */,
///           PK (group_id, author))   UNIQUE INDEX (group_id, ix)
/// rm_message(id PK, group_id, author, author_ix, seq, lamport, wall_ms, received_ms,
///            ordinal INT /* 1 + messages of the author before it */, text NULL, original_text NULL,
///            last_edit BLOB NULL, deleted INT, readable INT, implausible INT, reactions BLOB)
///   INDEX (group_id, lamport, id)  INDEX (group_id, author_ix, seq)  INDEX (…) WHERE deleted = 1
/// rm_op(id PK, group_id, target BLOB, kind INT, author BLOB, lamport INT,
///       ancestor INT /* EDIT: target is an ancestor */, text NULL, emoji NULL)
///   INDEX (target)            -- EDIT/DELETE/REACTION with an opened body
/// rm_remove(tag BLOB, remover BLOB, remover_author BLOB, remover_lamport INT, remover_target BLOB,
///           PK (tag, remover))  INDEX (remover_target)   -- REACTION removes
/// ```
enum ReadModelSchema {
    static func register(_ m: inout DatabaseMigrator) {
        m.registerMigration("v7-read-model") { db in
            try db.execute(sql: """
                ALTER TABLE event ADD COLUMN vv BLOB;
                ALTER TABLE event ADD COLUMN wall_max INTEGER;
                ALTER TABLE peer_holds ADD COLUMN vv BLOB;
                CREATE INDEX event_unindexed ON event(group_id, lamport, id) WHERE vv IS NULL;
                CREATE TABLE rm_group (
                    group_id BLOB PRIMARY KEY NOT NULL,
                    rules INTEGER NOT NULL,
                    events INTEGER NOT NULL,
                    messages INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE rm_author (
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    ix INTEGER NOT NULL,
                    max_lamport INTEGER NOT NULL,
                    max_seq INTEGER NOT NULL,
                    messages INTEGER NOT NULL,
                    member_lamport INTEGER,
                    member_id BLOB,
                    vv_all BLOB NOT NULL,
                    vv_read BLOB NOT NULL,
                    equivocated INTEGER NOT NULL,
                    name TEXT,
                    PRIMARY KEY (group_id, author)
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX rm_author_by_ix ON rm_author(group_id, ix);
                CREATE TABLE rm_message (
                    id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    author_ix INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    lamport INTEGER NOT NULL,
                    wall_ms INTEGER NOT NULL,
                    received_ms INTEGER NOT NULL,
                    ordinal INTEGER NOT NULL,
                    text TEXT,
                    original_text TEXT,
                    last_edit BLOB,
                    deleted INTEGER NOT NULL,
                    readable INTEGER NOT NULL,
                    implausible INTEGER NOT NULL,
                    reactions BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX rm_message_by_order ON rm_message(group_id, lamport, id);
                CREATE INDEX rm_message_by_author ON rm_message(group_id, author_ix, seq);
                CREATE INDEX rm_message_deleted ON rm_message(group_id, author_ix, seq) WHERE deleted = 1;
                CREATE TABLE rm_op (
                    id BLOB PRIMARY KEY NOT NULL,
                    group_id BLOB NOT NULL,
                    target BLOB NOT NULL,
                    kind INTEGER NOT NULL,
                    author BLOB NOT NULL,
                    lamport INTEGER NOT NULL,
                    ancestor INTEGER NOT NULL,
                    text TEXT,
                    emoji TEXT
                ) WITHOUT ROWID;
                CREATE INDEX rm_op_by_target ON rm_op(target);
                CREATE TABLE rm_remove (
                    tag BLOB NOT NULL,
                    remover BLOB NOT NULL,
                    remover_author BLOB NOT NULL,
                    remover_lamport INTEGER NOT NULL,
                    remover_target BLOB NOT NULL,
                    PRIMARY KEY (tag, remover)
                ) WITHOUT ROWID;
                CREATE INDEX rm_remove_by_target ON rm_remove(remover_target);
                """)
        }
    }
}
