import Foundation
import GRDB
import HarkCrypto
import HarkLog

/// What a peer is known to hold of one group (PROTOCOL.md §6.3), from the stored version vectors
/// of the read model (docs/HISTORY.md §"Receipts"): `known[ix]` is the highest seq of author
/// number `ix` among the ancestors-or-self of the IDs the peer named (its heads and `since`).
/// A stored event (author `a`, seq `s`) is an ancestor-or-self of those IDs iff
/// `known[ix(a)] ≥ s`, because self-parent chains are consecutive and no author of the group
/// forked (`Store.syncFrontier` returns nil otherwise).
///
/// Memory: O(authors of the group), never O(history). Value type; thread-safe.
public struct SyncFrontier: Sendable {
    public let group: EventID
    /// Author key bytes (32) → author number `ix`, as `rm_author` holds them when read.
    let ix: [Data: Int]
    /// Highest stored seq per author number (`rm_author.max_seq`).
    let maxSeq: [Int: Int64]
    let known: VersionVector

    /// Whether the event of author number `ix` and seq `seq` is an ancestor-or-self of the
    /// peer's IDs. An author unknown when the frontier was read is not known to the peer.
    func isKnown(author: Data, seq: Int64) -> Bool {
        guard let i = ix[author] else { return false }
        return Int64(clamping: known[i]) >= seq
    }

    /// How many stored events of the group the peer lacks (exact without forks).
    public var unknownCount: Int {
        maxSeq.reduce(0) { sum, e in sum + max(0, Int(e.value) - Int(clamping: known[e.key])) }
    }
}

/// A walk over the stored events of one group in total order (lamport, id) that selects what a
/// sync answer sends (`Store.nextSyncPage`). It holds its position and, per author number, the
/// lowest seq of a selected Bloom-negative event: O(authors) memory, whatever the history.
/// Value type; not thread-safe to advance from two tasks at once.
public struct SyncScan: Sendable {
    public let frontier: SyncFrontier
    /// Last event returned: (lamport, id); nil before the first page.
    var position: (lamport: Int64, id: Data)?
    /// Where the walk starts: the lowest lamport of an event the peer lacks.
    let startLamport: Int64
    /// Per author number: the lowest seq of a selected negative (its descendants are selected).
    var firstNegative: [Int: UInt64] = [:]
    public internal(set) var finished = false
}

extension Store {
    /// The frontier of `ids` (a peer's heads and `since`) in `group`, or nil when the vectors
    /// cannot answer exactly: an author of the group equivocated (two events at one seq, or a
    /// proof), or some event of the group is not indexed yet. IDs not stored here are skipped,
    /// as a graph would skip them. Cost: O(authors + ids) index reads.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func syncFrontier(group: EventID, knownBy ids: [EventID]) throws(StoreError) -> SyncFrontier? {
        try read("read the sync frontier of \(group)") { db -> SyncFrontier? in
            if try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM event WHERE group_id = ? AND vv IS NULL LIMIT 1"),
                                arguments: [group.data]) != nil { return nil }
            var ix: [Data: Int] = [:]
            var maxSeq: [Int: Int64] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT author, ix, max_seq, equivocated FROM rm_author WHERE group_id = ?"),
                                        arguments: [group.data]) {
                if (row["equivocated"] as Int64? ?? 1) != 0 { return nil }
                let i: Int = row["ix"]
                ix[try Data(row.blob("author", "rm_author"))] = i
                maxSeq[i] = row["max_seq"]
            }
            var known = VersionVector()
            let vv = try db.cachedStatement(sql: "SELECT vv FROM event WHERE id = ? AND group_id = ?")
            for id in Set(ids) {
                guard let row = try Row.fetchOne(vv, arguments: [id.data, group.data]) else { continue }
                known.formMax(VersionVector(decoding: try row.blob("vv", "event")))
            }
            return SyncFrontier(group: group, ix: ix, maxSeq: maxSeq, known: known)
        }
    }

    /// A scan of the events of the frontier's group that its peer lacks, from the lowest lamport
    /// among them (one index seek per author). - Throws: `StoreError.database`.
    public func syncScan(_ frontier: SyncFrontier) throws(StoreError) -> SyncScan {
        let start: Int64 = try read("find where a sync answer starts") { db in
            let first = try db.cachedStatement(sql: """
                SELECT lamport FROM event INDEXED BY event_by_author
                WHERE group_id = ? AND author = ? AND seq > ? ORDER BY seq LIMIT 1
                """)
            var low = Int64.max
            for (author, i) in frontier.ix {
                if let l = try Int64.fetchOne(first, arguments: [frontier.group.data, author, Int64(clamping: frontier.known[i])]) {
                    low = min(low, l)
                }
            }
            return low
        }
        var scan = SyncScan(frontier: frontier, startLamport: start)
        if start == Int64.max { scan.finished = true }
        return scan
    }

    /// The next events of a sync answer (BEC Algorithm 2, PROTOCOL.md §6.3), in total order: each
    /// stored event the peer lacks that `isNegative` (its Bloom filter does not hold it) or that
    /// descends from such an event — exactly what `ReconciliationSession.answer(request:graph:)`
    /// selects. Reads at most `maxEvents` rows and returns at most `maxBytes` bytes of events
    /// (at least one event); `scan.finished` turns true after the last.
    /// - Parameter withSigned: false returns IDs only (the `Data` are empty), for a Bloom filter.
    /// - Returns: (ID, serialized `SignedEvent` as stored).
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func nextSyncPage(_ scan: inout SyncScan, maxEvents: Int = 2048, maxBytes: Int = 768 * 1024, withSigned: Bool = true,
                             isNegative: (EventID) -> Bool) throws(StoreError) -> [(id: EventID, signed: Data)] {
        guard !scan.finished else { return [] }
        let columns = withSigned ? "id, author, seq, lamport, vv, signed" : "id, author, seq, lamport, vv"
        let rows: [Row] = try read("read a page of a sync answer") { db in
            if let p = scan.position {
                return try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT \(columns) FROM event INDEXED BY event_by_order
                    WHERE group_id = ? AND (lamport > ? OR (lamport = ? AND id > ?)) ORDER BY lamport, id LIMIT ?
                    """), arguments: [scan.frontier.group.data, p.lamport, p.lamport, p.id, maxEvents])
            }
            return try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(columns) FROM event INDEXED BY event_by_order
                WHERE group_id = ? AND lamport >= ? ORDER BY lamport, id LIMIT ?
                """), arguments: [scan.frontier.group.data, scan.startLamport, maxEvents])
        }
        if rows.count < maxEvents { scan.finished = true }
        var out: [(id: EventID, signed: Data)] = []
        var bytes = 0
        for row in rows {
            let idBytes = try row.blob("id", "event")
            let author = Data(try row.blob("author", "event"))
            let seq = try row.int64("seq", "event")
            if withSigned, !out.isEmpty, bytes >= maxBytes {
                scan.finished = false   // the rest of this page comes next time
                return out
            }
            scan.position = (try row.int64("lamport", "event"), Data(idBytes))
            guard !scan.frontier.isKnown(author: author, seq: seq) else { continue }
            let id: EventID
            do { id = try EventID(bytes: idBytes) } catch { throw .corrupt("event.id: \(error)") }
            var selected = false
            if isNegative(id) {
                selected = true
                if let i = scan.frontier.ix[author], seq > 0 {
                    scan.firstNegative[i] = min(scan.firstNegative[i] ?? .max, UInt64(seq))
                }
            } else if !scan.firstNegative.isEmpty {
                let vv = VersionVector(decoding: try row.blob("vv", "event"))
                selected = scan.firstNegative.contains { vv[$0.key] >= $0.value }
            }
            guard selected else { continue }
            let signed = withSigned ? Data(try row.blob("signed", "event")) : Data()
            bytes += signed.count
            out.append((id, signed))
        }
        return out
    }

    /// Up to `limit` nearest ancestors of `ids` the frontier's peer lacks, walking parent links
    /// back in descending (lamport, id) order and never past an event the peer holds; events in
    /// `skip` are walked through and count against `limit` but are not returned. What
    /// `CausalGraph.nearestAncestors(of:limit:stop:skip:)` returns with `stop` = the peer's
    /// known events. Cost: O(limit) index reads. - Throws: `StoreError.corrupt`, `.database`.
    public func nearestUnknownAncestors(of ids: [EventID], limit: Int, frontier: SyncFrontier,
                                        skip: Set<EventID>) throws(StoreError) -> [EventID] {
        guard limit > 0 else { return [] }
        return try read("walk the ancestors a peer lacks") { db in
            let parents = try db.cachedStatement(sql: """
                SELECT p.parent_id, e.lamport, e.author, e.seq FROM event_parent p JOIN event e ON e.id = p.parent_id
                WHERE p.event_id = ?
                """)
            var heap: [(lamport: Int64, id: EventID, known: Bool)] = []
            var seen = Set(ids)
            func push(parentsOf x: EventID) throws {
                for row in try Row.fetchAll(parents, arguments: [x.data]) {
                    let p = try row.eventID("parent_id", "event_parent")
                    guard seen.insert(p).inserted else { continue }
                    let known = frontier.isKnown(author: Data(try row.blob("author", "event")), seq: try row.int64("seq", "event"))
                    heap.append((try row.int64("lamport", "event"), p, known))
                }
            }
            for id in ids { try push(parentsOf: id) }
            var out: [EventID] = []
            var taken = 0
            while taken < limit, !heap.isEmpty {
                // Largest (lamport, id) first; the heap stays small (the walk's frontier).
                var best = 0
                for i in heap.indices.dropFirst() where (heap[i].lamport, heap[i].id) > (heap[best].lamport, heap[best].id) { best = i }
                let x = heap.remove(at: best)
                if x.known { continue }
                taken += 1
                if !skip.contains(x.id) { out.append(x.id) }
                try push(parentsOf: x.id)
            }
            return out
        }
    }

    /// The stored events among `ids` as stored (serialized `SignedEvent`), in total order;
    /// unknown IDs are skipped. No decoding. - Throws: `StoreError.corrupt`, `.database`.
    public func signedEvents(_ ids: [EventID]) throws(StoreError) -> [(id: EventID, signed: Data)] {
        let unique = Array(Set(ids))
        var rows: [(Int64, EventID, Data)] = []
        try read("read \(unique.count) events") { db in
            for chunk in Self.chunks(unique) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for row in try Row.fetchAll(db, sql: "SELECT id, lamport, signed FROM event WHERE id IN (\(marks))",
                                            arguments: StatementArguments(chunk.map(\.data))) {
                    rows.append((try row.int64("lamport", "event"), try row.eventID("id", "event"), Data(try row.blob("signed", "event"))))
                }
            }
        }
        return rows.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { ($0.1, $0.2) }
    }
}

extension SyncFrontier {
    /// Whether the event of `author` with `seq` is an ancestor-or-self of the IDs this frontier
    /// was read for (see the type's documentation).
    public func isKnown(author: SigningPublicKey, seq: UInt64) -> Bool {
        isKnown(author: Data(author.bytes), seq: Int64(clamping: seq))
    }
}

extension Store {
    /// Whether the group holds an event of `author` with `seq` (one index seek): an event that
    /// would fork its author's chain. - Throws: `StoreError.database`.
    public func holdsEvent(author: SigningPublicKey, seq: UInt64, group: EventID) throws(StoreError) -> Bool {
        try readStatement("look up an author's seq") { db in
            try Int.fetchOne(db.cachedStatement(sql: """
                SELECT 1 FROM event INDEXED BY event_by_author WHERE group_id = ? AND author = ? AND seq = ? LIMIT 1
                """), arguments: [group.data, Data(author.bytes), Int64(clamping: seq)]) != nil
        }
    }

    /// Those of `seqs` at which the group holds an event of `author`: events that would fork
    /// the author's chain. One index range over `seqs.min()...seqs.max()` (through
    /// `event_by_author`), or one seek per seq when that range is over 4× wider than `seqs`. - Throws: `StoreError.database`.
    public func heldSeqs(author: SigningPublicKey, _ seqs: Set<UInt64>, group: EventID) throws(StoreError) -> Set<UInt64> {
        guard let low = seqs.min(), let high = seqs.max() else { return [] }
        // Sparse seqs (a range much wider than the set): one seek each instead of the range.
        if high - low > UInt64(4 * seqs.count) {
            var held: Set<UInt64> = []
            for seq in seqs {
                if try holdsEvent(author: author, seq: seq, group: group) { held.insert(seq) }
            }
            return held
        }
        return try readStatement("look up an author's seqs") { db in
            var held: Set<UInt64> = []
            let rows = try Int64.fetchCursor(db.cachedStatement(sql: """
                SELECT seq FROM event INDEXED BY event_by_author WHERE group_id = ? AND author = ? AND seq BETWEEN ? AND ?
                """), arguments: [group.data, Data(author.bytes), Int64(clamping: low), Int64(clamping: high)])
            while let seq = try rows.next() {
                if seq >= 0, seqs.contains(UInt64(seq)) { held.insert(UInt64(seq)) }
            }
            return held
        }
    }
}
