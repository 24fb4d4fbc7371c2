import HarkCrypto
import HarkLog
import HarkStore

/// Opens sender-key bodies (MESSAGE and EDIT in groups with roles, PROTOCOL.md §5.4) with the
/// stored chains, without writing anything: the plaintexts and the advanced chains go into the
/// caller's `Store.DeliveryWrites`, so they are stored in the same transaction as the events
/// (or, for events stored earlier, in one transaction of their own). A message whose key the
/// chain no longer holds (used, or before the chain's start here) is tried with the chain kept
/// for shared history (§5.8), which stays unchanged.
///
/// Cost: one chain read per (author, epoch) and one AEAD open per body (≤ 64 KiB). Reads the
/// store (thread-safe); value type.
struct SenderKeyOpening {
    /// Events whose body opened.
    private(set) var opened: Set<EventID> = []
    /// Events with a sender-key body that did not open here (no key for it yet).
    private(set) var unopened: [EventID] = []

    /// Opens the bodies of `events` (in the order given; pass total order) into `writes`.
    /// Events without a sender-key body are skipped.
    init(_ events: [Event], group: EventID, store: Store, into writes: inout Store.DeliveryWrites) {
        var chains: [Node.ChainRef: SenderChain] = [:]
        var changed: [Node.ChainRef] = []
        for e in events {
            guard let body = e.body, let (epoch, index) = SenderKeyBody.position(body) else { continue }
            let ref = Node.ChainRef(author: e.author, epoch: epoch)
            if chains[ref] == nil, let stored = (try? store.inChain(group: group, author: e.author, epoch: epoch)) ?? nil {
                chains[ref] = stored
            }
            var mk: [UInt8]
            if let key = chains[ref]?.messageKey(at: index) {
                mk = key
                if !changed.contains(ref) { changed.append(ref) }
            } else if let kept = (try? store.historyChain(group: group, author: e.author, epoch: epoch)) ?? nil, kept.index <= index {
                var from = SenderChain(chainKey: kept.chainKey, nextIndex: kept.index)
                guard let key = from.messageKey(at: index) else { unopened.append(e.id); continue }
                mk = key
            } else {
                unopened.append(e.id)
                continue
            }
            defer { secureZero(&mk) }
            guard let content = try? SenderKeyBody.open(body, messageKey: mk, group: group, author: e.author, seq: e.seq),
                  let bytes: [UInt8] = try? content.serializedBytes() else { unopened.append(e.id); continue }
            writes.plaintexts[e.id] = bytes
            opened.insert(e.id)
        }
        for ref in changed {
            if let chain = chains[ref] {
                writes.inChains.append(Store.DeliveryWrites.InChain(group: group, author: ref.author, epoch: ref.epoch, chain: chain))
            }
        }
    }
}
