import HarkCrypto

/// The questions the ancestry-dependent validation rules and the membership fold ask of a
/// group's delivered events. `CausalGraph` answers them from memory; a node can answer them
/// from its store instead, so validating does not need the whole history loaded.
///
/// Implementations must answer as `CausalGraph` would for the same delivered events.
public protocol CausalHistory {
    /// Whether `id` is a delivered event of the group.
    func contains(_ id: EventID) -> Bool
    /// What is kept of a delivered event (parents, Lamport timestamp, author, seq, kind), or nil.
    func entry(_ id: EventID) -> CausalGraph.Entry?
    /// Whether `ancestor` is one of `ids` or reachable from them by parent links.
    func isAncestorOrSelf(_ ancestor: EventID, of ids: [EventID]) -> Bool
    /// The held EQUIVOCATION_PROOF events whose valid proof accuses `author`.
    func equivocationProofs(against author: SigningPublicKey) -> [EventID]
    /// The membership events (GENESIS, JOIN, MEMBER) among `ids` and their ancestors, sorted by ID.
    func membershipEvents(before ids: [EventID]) -> [EventID]
    /// The membership events among the strict ancestors of `id`, sorted by ID.
    func membershipAncestors(of id: EventID) -> [EventID]
}

extension CausalGraph: CausalHistory {}
