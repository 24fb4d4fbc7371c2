import HarkLog
import HarkStore
import Logging

extension Node {
    /// The in-memory causal graph of a group, loaded from the store on first use and kept in
    /// step by `persist`.
    func graph(for group: EventID) throws -> CausalGraph {
        if let g = graphs[group] { return g }
        var g = CausalGraph()
        for e in try store.events(group: group, limit: nil, afterLamport: nil) {
            try g.insert(e)   // total order delivers parents first
        }
        graphs[group] = g
        return g
    }

    /// Stores a validated event and adds it to its group's graph.
    /// - Returns: false if it was already held. Reports a fork (equivocation) when one appears.
    @discardableResult
    func persist(_ event: Event) throws -> Bool {
        let group = event.effectiveGroupID
        _ = try graph(for: group)
        guard try store.insert(event, receivedMs: Node.nowMs()) else { return false }
        // Mutate in place: a copy of the graph here would cost O(n) per event.
        guard let (_, fork) = try graphs[group]?.insert(event) else { return true }
        if let fork { logFork(fork, group: group) }
        return true
    }

    func logFork(_ fork: CausalGraph.Fork, group: EventID) {
        logger.warning("equivocation: an author signed two events with one sequence number", metadata: [
            "group.id": "\(group)", "author": "\(PeerID(fork.author))", "seq": "\(fork.seq)",
            "event.a": "\(fork.first)", "event.b": "\(fork.second)",
        ])
    }
}

import HarkCrypto
