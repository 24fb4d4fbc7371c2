import HarkCrypto
import HarkLog

/// Which peers' reported heads (PROTOCOL.md §4.8) changed in memory and are not yet written to
/// the store, and since when. A peer announces what it holds in every `IHave` (§6.4) and head
/// hint: writing each report at once cost one store transaction (and a read-model refresh of
/// that peer's frontier) per frame; the node writes each changed (group, peer) within `delayMs`
/// instead, with the latest heads, and before anything reads receipts on its actor. Once one
/// peer of a group is due, every changed peer of that group is written with it, in one
/// transaction: at most one write per group per `delayMs` however many peers report.
///
/// A pure state machine: time (ms on any monotonic clock) is passed in. Value type; keep it in
/// the node's actor.
struct HoldsWriteBehind {
    /// How long a changed report may wait to be written (ms).
    static let delayMs: Int64 = 250

    private var dirty: [EventID: [SigningPublicKey: Int64]] = [:]

    var isEmpty: Bool { dirty.isEmpty }

    /// `peer`'s report in `group` changed at `nowMs` (an earlier unwritten change keeps its time).
    mutating func changed(peer: SigningPublicKey, group: EventID, nowMs: Int64) {
        if dirty[group]?[peer] == nil { dirty[group, default: [:]][peer] = nowMs }
    }

    /// Reports to write now: for each group with a report waiting `delayMs` or more at `nowMs`
    /// (every group when `nowMs` is nil), all of the group's changed peers, removed from the set.
    mutating func due(nowMs: Int64?) -> [EventID: [SigningPublicKey]] {
        var out: [EventID: [SigningPublicKey]] = [:]
        for (group, peers) in dirty where nowMs.map({ now in peers.values.contains { $0 + Self.delayMs <= now } }) ?? true {
            out[group] = Array(peers.keys)
        }
        for group in out.keys { dirty.removeValue(forKey: group) }
        return out
    }
}
