import HarkCrypto
import HarkLog
import Synchronization

/// Per group, the peers that reported each event as one of their heads (`peer_holds.heads`,
/// PROTOCOL.md §4.8): what `ReadModelWriter.index` asks of every event it indexes, so that a live
/// event's transaction does not read and decode every peer's row again (up to
/// `Store.maxReportedHeads` IDs of 32 bytes per peer and group).
///
/// An entry is filled from `peer_holds` inside a write transaction and dropped inside every
/// write that replaces a row of its group (`Store.saveReportedHeads`). Writes are serialized, and
/// indexing changes only `peer_holds.vv`, never `heads`, so an entry always equals the table (a
/// dropped entry, even by a write that then rolls back, is read again on next use).
///
/// About 48 bytes per (head, peer) pair; at most `Store.maxReportedHeads` heads per peer and
/// group. Thread-safe (a mutex).
final class ReportedHeadsCache: Sendable {
    private let groups = Mutex<[EventID: [EventID: [SigningPublicKey]]]>([:])

    /// head event ID → peers that reported it, when cached for `group`.
    func reported(group: EventID) -> [EventID: [SigningPublicKey]]? {
        groups.withLock { $0[group] }
    }

    func put(_ reported: [EventID: [SigningPublicKey]], group: EventID) {
        groups.withLock { $0[group] = reported }
    }

    /// Forgets `group` (a row of it is being replaced).
    func drop(group: EventID) {
        _ = groups.withLock { $0.removeValue(forKey: group) }
    }
}
