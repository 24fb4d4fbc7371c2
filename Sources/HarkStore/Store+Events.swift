import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

extension Store {
    /// Stores `event` (validated by the caller) and updates its group's heads in the same
    /// transaction: its parents stop being heads, it becomes one.
    /// - Parameter receivedMs: local receipt time, ms since the Unix epoch.
    /// - Returns: true if stored, false if it was already held (nothing changes).
    /// - Throws: `StoreError.missingParents` (nothing is written) if any parent is not stored;
    ///   `.unrepresentable` for seq/lamport above Int64.max; `.database`.
    @discardableResult
    public func insert(_ event: Event, receivedMs: Int64) throws(StoreError) -> Bool {
        try insert(batch: [event], receivedMs: receivedMs)[0]
    }

    /// True if the event is stored. - Throws: `StoreError.database`.
    public func contains(_ id: EventID) throws(StoreError) -> Bool {
        try readStatement("look up event \(id)") { db in try Self.exists(db, id) }
    }

    /// Those of `ids` that are not stored, deduplicated, in first-seen order: what to ask a
    /// peer for. - Throws: `StoreError.corrupt`, `.database`.
    public func unknown(_ ids: [EventID]) throws(StoreError) -> [EventID] {
        var seen: Set<EventID> = []
        let unique = ids.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return [] }
        let held = try readStatement("look up \(unique.count) events") { db in try Self.heldIDs(db, unique) }
        return unique.filter { !held.contains($0) }
    }

    /// The stored event, or nil. - Throws: `StoreError.corrupt` if its row does not decode; `.database`.
    public func event(_ id: EventID) throws(StoreError) -> Event? {
        try readStatement("read event \(id)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, signed FROM event WHERE id = ?"), arguments: [id.data])?.event()
        }
    }

    /// Those of `ids` that are stored, in total order (lamport, id); unknown IDs are skipped.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func events(_ ids: [EventID]) throws(StoreError) -> [Event] {
        let unique = Array(Set(ids))
        let events: [Event] = try read("read \(unique.count) events") { db in
            var out: [Event] = []
            for chunk in Self.chunks(unique) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(db, sql: "SELECT id, signed FROM event WHERE id IN (\(marks))",
                                            arguments: StatementArguments(chunk.map(\.data)))
                for row in rows { out.append(try row.event()) }
            }
            return out
        }
        return events.inTotalOrder()
    }

    /// The group's heads (stored events with no stored child), ascending by ID bytes.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func heads(group: EventID) throws(StoreError) -> [EventID] {
        try read("read heads of \(group)") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT event_id FROM head WHERE group_id = ? ORDER BY event_id"), arguments: [group.data]).map { row in try row.eventID("event_id", "head") }
        }
    }

    /// The author's stored event with the highest seq in the group (lowest ID among equal seqs,
    /// which only an equivocating author produces), or nil.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func latest(author: SigningPublicKey, group: EventID) throws(StoreError) -> Event? {
        try read("read latest event of an author in \(group)") { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, signed FROM event WHERE group_id = ? AND author = ?
                ORDER BY seq DESC, id ASC LIMIT 1
                """), arguments: [group.data, Data(author.bytes)])?.event()
        }
    }

    /// The author's stored events of the given kinds in the group, by seq, read through the
    /// author index: O(the author's events), not the group's.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func events(group: EventID, author: SigningPublicKey, kinds: [Hark_V1_EventKind]) throws(StoreError) -> [Event] {
        let list = kinds.map { String($0.rawValue) }.joined(separator: ",")
        return try read("read events of an author in \(group)") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, signed FROM event INDEXED BY event_by_author
                WHERE group_id = ? AND author = ? AND kind IN (\(list)) ORDER BY seq, id
                """, arguments: [group.data, Data(author.bytes)]).map { row in try row.event() }
        }
    }

    /// The group's events (including its genesis) in total order (lamport, id).
    /// - Parameters:
    ///   - limit: at most this many (nil: all; ≤ 0: none).
    ///   - afterLamport: only events with a strictly greater lamport (nil: from the start).
    /// - Throws: `StoreError.corrupt`, `.unrepresentable`, `.database`.
    public func events(group: EventID, limit: Int? = nil, afterLamport: UInt64? = nil) throws(StoreError) -> [Event] {
        let after: Int64 = try afterLamport.map { l throws(StoreError) in try storable(l, "afterLamport") } ?? 0
        let lim = limit.map { max(0, $0) } ?? -1   // SQLite: a negative LIMIT means none
        return try read("read events of \(group)") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, signed FROM event WHERE group_id = ? AND lamport > ?
                ORDER BY lamport, id LIMIT ?
                """), arguments: [group.data, after, lim]).map { row in try row.event() }
        }
    }

    /// The kind term of the partial index `event_file_offer` (FILE_OFFER = 9): a literal, so
    /// SQLite can use the index.
    static let fileOfferKindSQL = "kind = 9"

    /// The group's FILE_OFFER events in total order (lamport, id), read through the partial index
    /// `event_file_offer`: O(offers + log n), whatever the size of the history.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func fileOffers(group: EventID) throws(StoreError) -> [Event] {
        try fileOfferEvents(group: group, after: nil, before: nil, limit: Int.max)
    }

    /// How many events of the group are stored (including its genesis). - Throws: `StoreError.database`.
    public func eventCount(group: EventID) throws(StoreError) -> Int {
        try read("count events of \(group)") { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM event WHERE group_id = ?"), arguments: [group.data]) ?? 0
        }
    }

    // MARK: helpers (inside a transaction)

    static func exists(_ db: Database, _ id: EventID) throws -> Bool {
        try Int.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM event WHERE id = ?"), arguments: [id.data]) != nil
    }

    static func heldIDs(_ db: Database, _ ids: [EventID]) throws -> Set<EventID> {
        var held: Set<EventID> = []
        // A few IDs (a live event and its parents): one cached look-up each, no statement to compile.
        if ids.count <= 8 {
            for id in ids where try exists(db, id) { held.insert(id) }
            return held
        }
        for chunk in chunks(ids) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id FROM event WHERE id IN (\(marks))",
                                        arguments: StatementArguments(chunk.map(\.data))) {
                held.insert(try row.eventID("id", "event"))
            }
        }
        return held
    }

    /// Splits ID lists below SQLite's bound-parameter limit.
    static func chunks(_ ids: [EventID], size: Int = 500) -> [ArraySlice<EventID>] {
        stride(from: 0, to: ids.count, by: size).map { ids[$0..<min($0 + size, ids.count)] }
    }
}

extension Store {
    /// Stores several validated events in one transaction (parents before children, or already
    /// stored), updating heads as `insert` does, and the read model (docs/HISTORY.md): save the
    /// group (`saveGroup`, its key opens the bodies) before its events.
    /// - Returns: for each event, whether it was newly stored.
    /// - Throws: `StoreError.missingParents` (nothing is written) if some parent is neither stored
    ///   nor earlier in `events`; `.unrepresentable`; `.database`.
    /// - Parameter writes: what the node writes with these events, in the same transaction
    ///   (plaintexts, sender-chain states, membership ancestry: `DeliveryWrites`).
    @discardableResult
    public func insert(batch events: [Event], receivedMs: Int64, with writes: DeliveryWrites = DeliveryWrites()) throws(StoreError) -> [Bool] {
        var rows: [(Event, Int64, Int64, Data)] = []
        rows.reserveCapacity(events.count)
        for e in events {
            rows.append((e, try storable(e.seq, "seq"), try storable(e.lamport, "lamport"), Data(e.serializedBytes())))
        }
        var historyChanged: Set<EventID> = []
        if writes.membershipAncestry != nil { historyChanged.formUnion(events.map(\.effectiveGroupID)) }
        let inserted: [Bool] = try write("insert \(events.count) events") { db in
            // Cached statements: SQLite compiles each once per connection, not once per event.
            let exists = try db.cachedStatement(sql: "SELECT 1 FROM event WHERE id = ?")
            // OR IGNORE: an event stored already changes no row (the unique ID index finds it),
            // so new events need no look-up of their own before the insert.
            let insertEvent = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO event (id, group_id, author, seq, lamport, wall_ms, kind, signed, received_ms, vv, wall_max)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            // The read model is kept in this same transaction (docs/HISTORY.md).
            let readModel = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            // First, so that a delete in this batch purges a plaintext it brings.
            try writes.writeRows(db)
            let insertParent = try db.cachedStatement(sql: "INSERT INTO event_parent (event_id, parent_id) VALUES (?, ?)")
            let dropHead = try db.cachedStatement(sql: "DELETE FROM head WHERE group_id = ? AND event_id = ?")
            let addHead = try db.cachedStatement(sql: "INSERT INTO head (group_id, event_id) VALUES (?, ?)")
            func held(_ id: EventID) throws -> Bool { try Int.fetchOne(exists, arguments: [id.data]) != nil }
            // Heads change once per batch, not once per event: the batch's new events that no
            // other new event names as a parent become heads; parents stored before the batch
            // stop being heads. A parent stored earlier in this batch needs no look-up.
            var stored: [EventID: EventID] = [:]        // new event → its group
            var parentsBefore: Set<GroupedID> = []      // parents held before this batch
            var named: Set<EventID> = []                // new events some new event names as parent
            var out: [Bool] = []
            out.reserveCapacity(rows.count)
            for (event, seq, lamport, signed) in rows {
                if stored[event.id] != nil { out.append(false); continue }
                let parents = event.allParents
                let group = event.effectiveGroupID
                var missing: [EventID] = []
                for p in parents where stored[p] == nil {
                    if try held(p) { parentsBefore.insert(GroupedID(group: group, id: p)) } else { missing.append(p) }
                }
                guard missing.isEmpty else { throw StoreError.missingParents(missing) }
                let (vv, parentWall) = try readModel.vector(for: event)
                let wallMax = ReadModelWriter.plausibility(wallMs: event.wallMs, ancestorWall: parentWall, receivedMs: receivedMs).wallMax
                try insertEvent.execute(arguments: [event.id.data, group.data, Data(event.author.bytes), seq, lamport,
                                                    event.wallMs, event.kind.rawValue, signed, receivedMs, Data(vv.encoded), wallMax])
                guard db.changesCount > 0 else { out.append(false); continue }   // held already
                for p in parents {
                    try insertParent.execute(arguments: [event.id.data, p.data])
                    if stored[p] != nil { named.insert(p) }
                }
                stored[event.id] = group
                try readModel.index(event, vv: vv, parentWall: parentWall, receivedMs: receivedMs, plaintext: writes.plaintexts[event.id])
                out.append(true)
            }
            for p in parentsBefore { try dropHead.execute(arguments: [p.group.data, p.id.data]) }
            for (id, group) in stored where !named.contains(id) { try addHead.execute(arguments: [group.data, id.data]) }
            try writes.showPlaintexts(readModel, except: stored)
            try readModel.flush()
            historyChanged.formUnion(readModel.historyChanged)
            return out
        }
        for (e, isNew) in zip(events, inserted) where isNew && Self.isRareKind(e.kind) { historyChanged.insert(e.effectiveGroupID) }
        if !historyChanged.isEmpty { historyGenerations.bump(historyChanged) }
        // Committed: the next events' parents are these, read from memory.
        for (e, isNew) in zip(events, inserted) where isNew {
            graphRows.put(e.id, group: e.effectiveGroupID,
                          GraphRow(parents: e.allParents.sorted(), lamport: e.lamport, author: e.author, seq: e.seq, kind: Int(e.kind.rawValue)))
        }
        return inserted
    }
}

/// An event ID with its group (a row key of `head`).
private struct GroupedID: Hashable {
    let group: EventID
    let id: EventID
}
