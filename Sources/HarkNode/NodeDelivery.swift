import HarkLog
import HarkStore

/// Storing what a delivery accepted (from a peer, or written by this node): one store
/// transaction per delivery holds the events, the read model, their sender-key plaintexts with
/// the chains that opened them, and the membership ancestry of new membership events
/// (`Store.DeliveryWrites`, docs/HISTORY.md §"Write cost"). A crash keeps all of it or none.
extension Node {
    /// Stores `accepted` (validated, in total order, already added to the graph when it is
    /// loaded, else to `history`) in one transaction, then handles what the plaintexts could not
    /// cover (SENDER_KEY and HISTORY_KEY events, bodies whose chain arrives in the same batch).
    /// - Parameter history: the `StoreHistory` the events were validated with, nil when the
    ///   group's graph was used.
    /// - Returns: the newly stored events, in the order of `accepted`.
    /// - Throws: `StoreError` (nothing is written).
    func storeDelivered(_ accepted: [Event], record: Store.GroupRecord, history: StoreHistory?) throws -> [Event] {
        let group = record.id
        var writes = Store.DeliveryWrites()
        var ancestry: [EventID: [EventID]] = [:]
        for e in accepted where CausalGraph.isMembershipKind(e.kind) {
            if let h = history {
                ancestry[e.id] = h.membershipEvents(before: e.allParents)
            } else if let graph = logState.graphs[group] {
                ancestry[e.id] = graph.membershipAncestors(of: e.id)
            }
        }
        if !ancestry.isEmpty { writes.membershipAncestry = (group, ancestry) }
        var opened: Set<EventID> = []
        if membershipIndex(for: group).hasRoles {
            let me = identity.signing.publicKey
            let sealed = accepted.filter { $0.author != me && ($0.kind == .message || $0.kind == .edit) }
            if !sealed.isEmpty { opened = SenderKeyOpening(sealed, group: group, store: store, into: &writes).opened }
        }
        let stored = try store.insert(batch: accepted, receivedMs: clock.wallMs(), with: writes)
        let delivered = zip(accepted, stored).filter { $0.1 }.map(\.0)
        if !delivered.isEmpty { receiveSenderKeyEvents(delivered, record: record, opened: opened) }
        return delivered
    }
}
