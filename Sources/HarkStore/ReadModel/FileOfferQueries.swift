import Foundation
import GRDB
import HarkLog

extension Store {
    /// The group's FILE_OFFER events strictly between two positions of the total order (nil: no
    /// bound), ascending, at most `limit`: one range of the partial index `event_file_offer`,
    /// O(log n + offers returned). For showing offers among a page of `log`.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func fileOfferEvents(group: EventID, after: EventOrder?, before: EventOrder?, limit: Int = 1000) throws(StoreError) -> [Event] {
        guard limit > 0 else { return [] }
        let lo = try after.map { o throws(StoreError) in (try Self.int(o.lamport), o.id.data) } ?? (Int64.min, Data())
        let hi = try before.map { o throws(StoreError) in (try Self.int(o.lamport), o.id.data) }
            ?? (Int64.max, Data(repeating: 0xff, count: 33))
        return try read("read file offers") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, signed FROM event INDEXED BY event_file_offer
                WHERE group_id = ? AND \(Self.fileOfferKindSQL) AND (lamport, id) > (?, ?) AND (lamport, id) < (?, ?)
                ORDER BY lamport, id LIMIT ?
                """, arguments: [group.data, lo.0, lo.1, hi.0, hi.1, limit])
                .map { row throws(StoreError) in try row.event() }
        }
    }
}
