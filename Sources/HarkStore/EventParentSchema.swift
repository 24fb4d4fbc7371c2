import GRDB

/// Migration `drop-event-parent-by-parent`: drops the index `event_parent_by_parent`
/// (`event_parent(parent_id)`).
///
/// No query reads parent links by parent (children are never looked up in SQL), and no event row
/// is ever deleted or re-keyed, so SQLite never needs it to enforce `event_parent`'s foreign keys
/// either. Keyed by a hash, it took every parent link at a random page: with the other ID-keyed
/// B-trees it made each intake transaction rewrite most of its pages (about 1 page of 4 KiB per
/// stored event at 100,000 events, more as the history grows).
enum EventParentSchema {
    static func register(_ m: inout DatabaseMigrator) {
        // Immediate foreign key checks: dropping an index cannot break one, and the deferred check
        // at the end of a migration reads every row of `event_parent` (seconds at 1M events).
        m.registerMigration("drop-event-parent-by-parent", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: "DROP INDEX IF EXISTS event_parent_by_parent")
        }
    }
}
