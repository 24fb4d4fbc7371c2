import HarkCrypto

/// How far one member got with one message (PROTOCOL.md §4.8). Ordered: read implies delivered.
public enum ReceiptState: Int, Sendable, Comparable, CaseIterable {
    /// No evidence yet that the member's node holds the message.
    case pending = 0
    /// The member's node holds the message.
    case delivered = 1
    /// The member's read marker passed the message.
    case read = 2

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// "pending", "delivered", "read" (the control API's names).
    public var name: String {
        switch self {
        case .pending: return "pending"
        case .delivered: return "delivered"
        case .read: return "read"
        }
    }
}

/// Delivery and read receipts, derived from what replication already carries (PROTOCOL.md §4.8):
///
/// - **read** by member M: a READ event by M has the message among its ancestors.
/// - **delivered** to M: read by M; or any event by M has it among its ancestors (M's node
///   held it when M wrote that event); or a head M's node reported holding over a channel
///   (Heads, SyncRequest and SyncReply frames, head hints) is the message or descends from it.
///
/// Events are stored only after all their ancestors, so "holds a descendant" implies "holds it".
/// A member reached only through relays is seen as delivered once it writes any event or
/// reports its heads to this node directly.
///
/// Pure: a function of the graph and the reported heads. Cost: proportional to the number of
/// the message's descendants.
public enum Receipts {
    /// The members of the group in `graph`: the genesis author and every JOIN author.
    public static func members(in graph: CausalGraph) -> Set<SigningPublicKey> {
        var out: Set<SigningPublicKey> = []
        for e in graph.unorderedEntries where e.kind == .genesis || e.kind == .join { out.insert(e.author) }
        return out
    }

    /// The receipt state of `message` for every member but its author.
    /// - Parameters:
    ///   - members: the group's members (`members(in:)`).
    ///   - reportedHeads: per peer identity key, the heads its node reported holding.
    /// - Returns: empty if the message is not in the graph.
    public static func states(of message: EventID, in graph: CausalGraph, members: Set<SigningPublicKey>,
                              reportedHeads: [SigningPublicKey: [EventID]]) -> [SigningPublicKey: ReceiptState] {
        guard let target = graph.entry(message) else { return [:] }
        let descendants = Set(graph.descendantsOrSelf(of: [message]))
        var out: [SigningPublicKey: ReceiptState] = [:]
        for m in members where m != target.author { out[m] = .pending }
        for id in descendants where id != message {
            guard let e = graph.entry(id), let current = out[e.author] else { continue }
            let state: ReceiptState = e.kind == .read ? .read : .delivered
            if state > current { out[e.author] = state }
        }
        for (peer, heads) in reportedHeads {
            guard let current = out[peer], current == .pending else { continue }
            if heads.contains(where: descendants.contains) { out[peer] = .delivered }
        }
        return out
    }
}
