import HarkCrypto
import HarkLog

/// The node's in-memory view of each group's replicated log: causal graphs, membership rules,
/// events waiting for their parents, and events refused. Held by `Node`; isolated to it.
struct LogState {
    /// Per group: events received whose parents are not all held yet, and events that failed
    /// validation (never stored, relayed or requested again). Created with the group's first
    /// received event.
    var intakes: [EventID: EventIntake] = [:]
    /// Per group: the in-memory causal graph (NodeGraphs.swift).
    var graphs: [EventID: CausalGraph] = [:]
    /// What validation from the store reads of each group, kept while its history generation holds.
    var historyBases: StoreHistory.Bases = [:]
    /// Per group: its `TipHistory` (what writing an event here reads of the group), kept while
    /// its history generation (`Store.historyGeneration`) holds.
    var tipHistories: [EventID: (generation: UInt64, tip: TipHistory)] = [:]
    /// Per group: what channels brought to the intake since its last delivery, in arrival order
    /// (`Node.deliverQueued`).
    var pendingDeliveries: [EventID: [DeliveryContribution]] = [:]
    /// Groups with a delivery task queued on the node's actor (`Node.scheduleDelivery`).
    var deliveryScheduled: Set<EventID> = []
    /// Deliveries that stored events (each one store transaction), and the events they stored;
    /// logged as the node stops.
    var deliveryCounts = (deliveries: 0, events: 0)
    /// Per group: its membership rules and cached membership states (NodeGraphs.swift).
    var membershipIndexes: [EventID: MembershipIndex] = [:]
    /// Forks for which this node already wrote an equivocation proof.
    var provenForks: Set<CausalGraph.Fork> = []
    /// PREKEY event → its 32 B key (NodeSenderKeys.swift).
    var prekeyCache: [EventID: [UInt8]] = [:]
    /// Per group: each member's current prekey, recomputed only after a PREKEY or MEMBER event
    /// (every MESSAGE asks for it; a scan of the graph each time would be O(events)).
    var prekeyViews: [EventID: [SigningPublicKey: [UInt8]]] = [:]

    /// Whether `id` waits for its parents in `group`'s intake.
    func isWaiting(_ id: EventID, group: EventID) -> Bool { intakes[group]?.isWaiting(id) ?? false }

    /// Whether `id` failed validation in `group`.
    func isRejected(_ id: EventID, group: EventID) -> Bool { intakes[group]?.isRejected(id) ?? false }
}
