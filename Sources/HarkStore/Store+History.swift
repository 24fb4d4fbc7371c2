import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

/// What validation asks of a group's history, answered from the store with index look-ups, so a
/// node need not hold the whole history in memory to write an event (see `CausalHistory`).
extension Store {
    /// The kinds the `event_by_rare_kind` partial index holds, as SQL: GENESIS (1), JOIN (3),
    /// EQUIVOCATION_PROOF (7), MEMBER (12), PREKEY (13): one to a few per member, never one per
    /// message. Must stay the partial index's WHERE clause word for word.
    static let rareKindsSQL = "kind IN (1, 3, 7, 12, 13)"

    /// Whether `kind` is one of `rareKindsSQL`'s.
    static func isRareKind(_ kind: Hark_V1_EventKind) -> Bool {
        switch kind.rawValue {
        case 1, 3, 7, 12, 13: true
        default: false
        }
    }

    /// What the causal graph keeps of a stored event (`CausalGraph.Entry` without its ID).
    public struct GraphRow: Sendable, Equatable {
        /// Ascending by ID bytes.
        public let parents: [EventID]
        public let lamport: UInt64
        public let author: SigningPublicKey
        public let seq: UInt64
        /// The `EventKind` number.
        public let kind: Int
    }

    /// The group's stored GENESIS, JOIN, EQUIVOCATION_PROOF, MEMBER and PREKEY events, in total
    /// order (lamport, id).
    /// Cost: one index range, proportional to the events returned.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func rareKindEvents(group: EventID) throws(StoreError) -> [Event] {
        try readStatement("read membership events of \(group)") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, signed FROM event INDEXED BY event_by_rare_kind
                WHERE group_id = ? AND \(Self.rareKindsSQL) ORDER BY lamport, id
                """), arguments: [group.data]).map { row in try row.event() }
        }
    }

    /// What the causal graph keeps of a stored event of `group`, or nil if the group holds no
    /// such event. Two index reads. - Throws: `StoreError.corrupt`, `.database`.
    public func graphRow(_ id: EventID, group: EventID) throws(StoreError) -> GraphRow? {
        if let cached = graphRows.row(id, group: group) { return cached }
        let row = try readStatement("read graph entry \(id)") { db -> GraphRow? in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT author, seq, lamport, kind FROM event WHERE id = ? AND group_id = ?
                """), arguments: [id.data, group.data]) else { return nil }
            var parents: [EventID] = []
            for r in try Row.fetchAll(db.cachedStatement(sql: "SELECT parent_id FROM event_parent WHERE event_id = ?"),
                                      arguments: [id.data]) {
                parents.append(try r.eventID("parent_id", "event_parent"))
            }
            let seq: Int64 = row["seq"], lamport: Int64 = row["lamport"], kind: Int = row["kind"]
            return GraphRow(parents: parents, lamport: UInt64(max(0, lamport)), author: try row.signingKey("author", "event"),
                            seq: UInt64(max(0, seq)), kind: kind)
        }
        if let row { graphRows.put(id, group: group, row) }
        return row
    }

    /// Per stored membership event of `group` whose ancestry was recorded: the membership events
    /// among its strict ancestors, sorted by ID. - Throws: `StoreError.corrupt`, `.database`.
    public func membershipAncestors(group: EventID) throws(StoreError) -> [EventID: [EventID]] {
        try readStatement("read membership ancestry of \(group)") { db in
            var out: [EventID: [EventID]] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT event_id, ancestors FROM membership_ancestry WHERE group_id = ?"),
                                        arguments: [group.data]) {
                out[try row.eventID("event_id", "membership_ancestry")] = try row.eventIDs("ancestors", "membership_ancestry")
            }
            return out
        }
    }

    /// Records the membership events among the strict ancestors of the stored membership event
    /// `id` (replacing any earlier record). - Throws: `StoreError.database`.
    public func saveMembershipAncestors(_ ancestry: [EventID: [EventID]], group: EventID) throws(StoreError) {
        guard !ancestry.isEmpty else { return }
        defer { historyGenerations.bump([group]) }
        try write("record membership ancestry in \(group)") { db in try Self.saveMembershipAncestors(db, ancestry, group: group) }
    }

    /// `saveMembershipAncestors` inside the caller's transaction.
    static func saveMembershipAncestors(_ db: Database, _ ancestry: [EventID: [EventID]], group: EventID) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO membership_ancestry (event_id, group_id, ancestors) VALUES (?, ?, ?)
            """)
        for (id, ancestors) in ancestry {
            try statement.execute(arguments: [id.data, group.data, EventID.blob(ancestors.sorted())])
        }
    }
}

extension Store {
    /// The GENESIS, JOIN and MEMBER events among the strict ancestors of the stored event `id`,
    /// found by walking parent links in SQL, never below Lamport `floor` (pass the lowest Lamport
    /// of the membership events sought; the genesis, an ancestor of every event of its group,
    /// is added without a walk). Cost: proportional to the events between `floor` and `id`; for
    /// filling in what an earlier release did not record, once.
    /// - Returns: sorted by ID bytes. - Throws: `StoreError.corrupt`, `.unrepresentable`, `.database`.
    public func membershipAncestorsByWalking(_ id: EventID, group: EventID, floor: UInt64) throws(StoreError) -> [EventID] {
        let low = try storable(floor, "floor")
        let found: [EventID] = try read("walk the ancestors of \(id)") { db in
            var out: [EventID] = []
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                WITH RECURSIVE walk(id) AS (
                    SELECT p.parent_id FROM event_parent p JOIN event e ON e.id = p.parent_id
                    WHERE p.event_id = ? AND e.lamport >= ?
                    UNION
                    SELECT p.parent_id FROM walk w JOIN event_parent p ON p.event_id = w.id
                    JOIN event e ON e.id = p.parent_id WHERE e.lamport >= ?
                )
                SELECT e.id FROM walk w JOIN event e ON e.id = w.id WHERE e.kind IN (3, 12)
                """), arguments: [id.data, low, low]) {
                out.append(try row.eventID("id", "event"))
            }
            return out
        }
        return ([group] + found).sorted()
    }
}
