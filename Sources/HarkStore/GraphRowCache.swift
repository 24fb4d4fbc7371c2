import HarkLog
import Synchronization

/// The graph rows (`Store.GraphRow`) of recently stored or read events, so that validating a
/// live event reads its parents, nearly always among the last events of the group, from memory.
/// A row never changes once its event is stored, so nothing is ever invalidated; only rows of
/// committed events are put in, and a miss falls back to the store.
///
/// Up to `capacity` rows (about 200 bytes each); when full it starts over. Thread-safe (a mutex).
final class GraphRowCache: Sendable {
    static let capacity = 4_096

    private struct Entry {
        let group: EventID
        let row: Store.GraphRow
    }

    private let rows = Mutex<[EventID: Entry]>([:])

    /// The row of `id` if cached and `id` belongs to `group`.
    func row(_ id: EventID, group: EventID) -> Store.GraphRow? {
        rows.withLock { rows in rows[id].flatMap { $0.group == group ? $0.row : nil } }
    }

    func put(_ id: EventID, group: EventID, _ row: Store.GraphRow) {
        rows.withLock { rows in
            if rows.count >= Self.capacity { rows.removeAll(keepingCapacity: true) }
            rows[id] = Entry(group: group, row: row)
        }
    }
}
