import HarkCrypto
import HarkLog

/// Which peers' reported heads (PROTOCOL.md §4.8) changed in memory and are not yet written to
/// the store, and since when. A peer announces what it holds in every `IHave` (§6.4) and head
/// hint: writing each report at once cost one store transaction (and a read-model refresh of
/// that peer's frontier) per frame; the node writes each changed (group, peer) once per
/// `delayMs` instead, with the latest heads, and before anything reads receipts on its actor.
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

    /// Reports to write now (waiting `delayMs` or more at `nowMs`; all when `nowMs` is nil),
    /// removed from the set, per group.
    mutating func due(nowMs: Int64?) -> [EventID: [SigningPublicKey]] {
        var out: [EventID: [SigningPublicKey]] = [:]
        for (group, peers) in dirty {
            for (peer, since) in peers where nowMs.map({ since + Self.delayMs <= $0 }) ?? true {
                out[group, default: []].append(peer)
                dirty[group]?.removeValue(forKey: peer)
            }
            if dirty[group]?.isEmpty ?? false { dirty.removeValue(forKey: group) }
        }
        return out
    }
}
