/// The ancestry-dependent rules (protocol.md §3.4, rule 2), decided only on the event's
/// parents, so every correct node reaches the same verdict. Pure; thread-safe (no state).
public enum EventValidator {
    /// Checks `event` against its already delivered parents.
    ///
    /// Rules: every parent is in `parents` (keyed by ID; extra entries are ignored); the
    /// self-parent has the same author and seq == event.seq − 1; every parent belongs to the
    /// event's group (its `groupID`, or its own ID if it is the genesis); lamport is exactly
    /// 1 + max(lamport of all parents).
    /// - Throws: `EventError.missingParents` (all missing IDs, self-parent first, then ascending),
    ///   `.selfParentAuthorMismatch`, `.selfParentSeqMismatch`, `.foreignParent`, `.wrongLamport`.
    public static func validate(_ event: Event, parents: [EventID: Event]) throws(EventError) {
        let all = event.allParents
        let missing = all.filter { parents[$0] == nil }
        guard missing.isEmpty else { throw .missingParents(missing) }
        // Genesis has no parents and its lamport (1) was checked when decoding.
        guard let group = event.groupID else { return }

        if let sp = event.selfParent, let selfParent = parents[sp] {
            guard selfParent.author == event.author else { throw .selfParentAuthorMismatch }
            guard selfParent.seq == event.seq - 1 else {
                throw .selfParentSeqMismatch(expected: event.seq - 1, actual: selfParent.seq)
            }
        }
        var maxLamport: UInt64 = 0
        for id in all {
            guard let p = parents[id] else { continue }   // unreachable: checked above
            guard p.effectiveGroupID == group else { throw .foreignParent(id) }
            maxLamport = max(maxLamport, p.lamport)
        }
        let (expected, overflow) = maxLamport.addingReportingOverflow(1)
        guard !overflow, event.lamport == expected else {
            throw .wrongLamport(expected: expected, actual: event.lamport)
        }
    }
}
