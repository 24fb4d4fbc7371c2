import GRDB

/// Migration `events-in-arrival-order`: `event` and `rm_message` become rowid tables (rows in the
/// order they were stored) with a unique index on the event ID, instead of tables keyed by the ID.
///
/// An event ID is a hash, so a table keyed by it takes every insert at a random page of its
/// B-tree, and each write transaction rewrites most of the pages it touched: full rows of about
/// 420 bytes (`event`) and 150 bytes (`rm_message`). In a rowid table the rows of a batch land
/// together at the end; only the ID index (about 45 bytes an entry) is written at random places.
/// Readers are unchanged: every look-up by ID goes through the unique index, and the order
/// indexes keep their names and columns (`INDEXED BY event_by_rare_kind` still applies).
///
/// ```sql
/// event(rowid INTEGER PK /* arrival */, id BLOB UNIQUE NOT NULL /*32 B*/, group_id, author, seq, lamport,
///       wall_ms, kind, signed, received_ms, vv, wall_max)
///   INDEX event_by_order, event_by_author, event_unindexed, event_by_rare_kind   -- as before
/// rm_message(rowid INTEGER PK, id BLOB UNIQUE NOT NULL, …as before…)
///   INDEX rm_message_by_order, rm_message_by_author, rm_message_deleted          -- as before
/// ```
/// An existing store is copied over in (group, lamport, id) order once, inside the migration's
/// transaction (foreign keys are checked at its end: `event_parent` and `head` reference
/// `event(id)`, which the unique index satisfies).
enum EventLayoutSchema {
    static let rewriteMigration = "events-in-arrival-order"

    /// How many stored events the rewrite migration will copy: 0 when it ran already or the
    /// store is new. - Throws: GRDB errors.
    static func eventsToRewrite(_ db: any DatabaseWriter) throws -> Int {
        try db.read { db in
            guard try db.tableExists("event"), try db.tableExists("grdb_migrations"),
                  try !StoreSchema.migrator.appliedIdentifiers(db).contains(rewriteMigration) else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0
        }
    }

    static func register(_ m: inout DatabaseMigrator) {
        m.registerMigration(rewriteMigration) { db in
            try db.execute(sql: """
                CREATE TABLE event_by_arrival (
                    id BLOB NOT NULL UNIQUE,
                    group_id BLOB NOT NULL,
                    author BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    lamport INTEGER NOT NULL,
                    wall_ms INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    signed BLOB NOT NULL,
                    received_ms INTEGER NOT NULL,
                    vv BLOB,
                    wall_max INTEGER
                );
                INSERT INTO event_by_arrival (id, group_id, author, seq, lamport, wall_ms, kind, signed, received_ms, vv, wall_max)
                    SELECT id, group_id, author, seq, lamport, wall_ms, kind, signed, received_ms, vv, wall_max
                    FROM event ORDER BY group_id, lamport, id;
                DROP TABLE event;
                ALTER TABLE event_by_arrival RENAME TO event;
                CREATE INDEX event_by_order ON event(group_id, lamport, id);
                CREATE INDEX event_by_author ON event(group_id, author, seq);
                CREATE INDEX event_unindexed ON event(group_id, lamport, id) WHERE vv IS NULL;
                CREATE INDEX event_by_rare_kind ON event(group_id, lamport, id) WHERE \(Store.rareKindsSQL);

                CREATE TABLE rm_message_by_arrival (
                    id BLOB NOT NULL UNIQUE,
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
                );
                INSERT INTO rm_message_by_arrival (id, group_id, author, author_ix, seq, lamport, wall_ms, received_ms, ordinal,
                                                   text, original_text, last_edit, deleted, readable, implausible, reactions)
                    SELECT id, group_id, author, author_ix, seq, lamport, wall_ms, received_ms, ordinal,
                           text, original_text, last_edit, deleted, readable, implausible, reactions
                    FROM rm_message ORDER BY group_id, lamport, id;
                DROP TABLE rm_message;
                ALTER TABLE rm_message_by_arrival RENAME TO rm_message;
                CREATE INDEX rm_message_by_order ON rm_message(group_id, lamport, id);
                CREATE INDEX rm_message_by_author ON rm_message(group_id, author_ix, seq);
                CREATE INDEX rm_message_deleted ON rm_message(group_id, author_ix, seq) WHERE deleted = 1;
                """)
        }
        m.registerMigration("event-file-offer-index") { db in
            // The FILE_OFFER events of a group without reading its history (`fileOffers(group:)`).
            try db.execute(sql: "CREATE INDEX event_file_offer ON event(group_id, lamport, id) WHERE \(Store.fileOfferKindSQL)")
        }
    }
}
