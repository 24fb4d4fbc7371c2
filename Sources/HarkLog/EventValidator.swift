import HarkCrypto
import HarkEventProto
import struct Foundation.Data

/// The ancestry-dependent rules (PROTOCOL.md §4.3, rules 4–10), decided only on the event's
/// parents, so every correct node reaches the same verdict. Pure; thread-safe (no state).
public enum EventValidator {
    /// What the ancestry rules read of a parent: 32 B author key, seq, Lamport timestamp and
    /// group. A graph entry of the group's graph gives them without reading the parent back from
    /// the store.
    public struct ParentFacts: Sendable, Equatable {
        public let author: SigningPublicKey
        public let seq: UInt64
        public let lamport: UInt64
        /// The parent's group: its `groupID`, or its own ID for a genesis.
        public let group: EventID

        public init(author: SigningPublicKey, seq: UInt64, lamport: UInt64, group: EventID) {
            self.author = author
            self.seq = seq
            self.lamport = lamport
            self.group = group
        }

        public init(_ event: Event) {
            self.init(author: event.author, seq: event.seq, lamport: event.lamport, group: event.effectiveGroupID)
        }
    }

    /// Checks `event` against its already delivered parents.
    ///
    /// Rules: every parent is in `parents` (keyed by ID; extra entries are ignored); the
    /// self-parent has the same author and seq == event.seq − 1; every parent belongs to the
    /// event's group (its `groupID`, or its own ID if it is the genesis); lamport is exactly
    /// 1 + max(lamport of all parents).
    /// - Throws: `EventError.missingParents` (all missing IDs, self-parent first, then ascending),
    ///   `.selfParentAuthorMismatch`, `.selfParentSeqMismatch`, `.foreignParent`, `.wrongLamport`.
    public static func validate(_ event: Event, parents: [EventID: Event]) throws(EventError) {
        try validate(event, parentFacts: facts(of: event, in: parents))
    }

    /// `validate(_:parents:)` on what the rules read of each parent (see `ParentFacts`).
    /// - Throws: as `validate(_:parents:)`.
    public static func validate(_ event: Event, parentFacts parents: [EventID: ParentFacts]) throws(EventError) {
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
            guard p.group == group else { throw .foreignParent(id) }
            maxLamport = max(maxLamport, p.lamport)
        }
        let (expected, overflow) = maxLamport.addingReportingOverflow(1)
        guard !overflow, event.lamport == expected else {
            throw .wrongLamport(expected: expected, actual: event.lamport)
        }
    }

    /// The facts of those of `event`'s parents found in `parents`.
    static func facts(of event: Event, in parents: [EventID: Event]) -> [EventID: ParentFacts] {
        var out: [EventID: ParentFacts] = [:]
        for id in event.allParents { if let p = parents[id] { out[id] = ParentFacts(p) } }
        return out
    }
}

/// What the kind rules need to know about a group besides an event's parents: the graph of its
/// delivered events and a way to read an event's content. The node implements it with its store
/// and the group key; `KeyedGroupContext` is the plain implementation.
public protocol GroupContext {
    associatedtype History: CausalHistory
    /// Every delivered event of the group (the event being validated is not in it yet): the
    /// in-memory `CausalGraph`, or another `CausalHistory` that answers as it would.
    var history: History { get }
    /// Decrypts and decodes `event`'s body (usually `BodyCipher.open(event, groupKey:)`).
    /// Called only for events that carry a body. Must be deterministic: same event, same result.
    /// - Throws: `EventError.bodyDecryptionFailed` or `.malformed` for a body that does not open.
    func content(of event: Event) throws(EventError) -> Hark_V1_Content
    /// For a group with roles, its membership index (PROTOCOL.md §5); nil for an open group.
    var membershipIndex: MembershipIndex? { get }
}

extension GroupContext {
    public var membershipIndex: MembershipIndex? { nil }
}

/// A `GroupContext` from a graph and the 32-byte group key.
public struct KeyedGroupContext: GroupContext, Sendable {
    public var graph: CausalGraph
    public let groupKey: [UInt8]
    public let membershipIndex: MembershipIndex?

    public init(graph: CausalGraph, groupKey: [UInt8], membershipIndex: MembershipIndex? = nil) {
        self.graph = graph
        self.groupKey = groupKey
        self.membershipIndex = membershipIndex
    }

    public var history: CausalGraph { graph }

    public func content(of event: Event) throws(EventError) -> Hark_V1_Content {
        try BodyCipher.open(event, groupKey: groupKey)
    }
}

extension EventValidator {
    /// All rules that depend on ancestry (PROTOCOL.md §4.3): those of `validate(_:parents:)`, then
    /// the kind rules, decided on `before(u)` (the event's ancestors in `context.history`) only:
    ///
    /// - No valid EQUIVOCATION_PROOF against the author is an ancestor (`.authorEquivocated`).
    /// - MESSAGE and EDIT: nothing more. Their bodies may be purged (PROTOCOL.md §4.7.2), so their
    ///   validity must not depend on the body, or a replica handed a purged copy could disagree
    ///   with one that holds the body. A MESSAGE or EDIT whose body does not open to the right case,
    ///   or an EDIT whose target is not the author's own MESSAGE among its ancestors, is valid
    ///   but *inert*: `GroupState` gives it no effect.
    /// - GENESIS, JOIN, DELETE, REACTION: a body present must open (`context.content(of:)`) to the
    ///   kind's case (`.wrongContent`); DELETE and REACTION need one (`.missingBody`, also when
    ///   purged: those bodies are never purged).
    /// - DELETE: the target is a MESSAGE by the same author among the ancestors.
    /// - REACTION: emoji ≤ 32 B; emoji or removes non-empty; the target is a MESSAGE among the
    ///   ancestors; each `removes` ID is a REACTION by the same author among the ancestors.
    /// - HISTORY_KEY: only in a group with roles whose genesis says shared history, by an admin or
    ///   the owner, with the sizes of `HistoryShare.checkStructure` (PROTOCOL.md §5.8).
    /// - EQUIVOCATION_PROOF: the (cleartext) body is a serialized `EquivocationProof` that
    ///   `EquivocationProof.verify` accepts, for this event's group.
    ///
    /// - Parameters:
    ///   - parents: the event's parents (as for `validate(_:parents:)`); extra entries are ignored.
    ///   - context: the group's graph and content access.
    /// - Throws: `EventError`, the first rule broken; `.missingParents` also when a parent is in
    ///   `parents` but not in `context.history`; `.memberContentsNeeded` (no verdict) when the
    ///   membership index lacks MEMBER contents the fold needs.
    public static func validate(_ event: Event, parents: [EventID: Event], context: some GroupContext) throws(EventError) {
        try validate(event, parentFacts: facts(of: event, in: parents), context: context)
    }

    /// `validate(_:parents:context:)` on what the rules read of each parent (see `ParentFacts`).
    /// - Throws: as `validate(_:parents:context:)`.
    public static func validate(_ event: Event, parentFacts: [EventID: ParentFacts], context: some GroupContext) throws(EventError) {
        try validate(event, parentFacts: parentFacts)
        let graph = context.history
        let ancestry = event.allParents
        // before(u) is read from the graph: it must hold every parent, or a proof could be missed.
        let notInGraph = ancestry.filter { !graph.contains($0) }
        guard notInGraph.isEmpty else { throw .missingParents(notInGraph) }
        for proof in graph.equivocationProofs(against: event.author) where graph.isAncestorOrSelf(proof, of: ancestry) {
            throw .authorEquivocated
        }

        // Groups with roles (PROTOCOL.md §5.3): the author must be a member in the state folded
        // from before(u); MEMBER changes need the role the rules ask; channels take posts from
        // admins only.
        var membership: Membership?
        if let index = context.membershipIndex, index.hasRoles, event.kind != .genesis {
            let m: Membership
            switch index.membership(frontier: graph.membershipEvents(before: ancestry), in: graph) {
            case let .membership(state): m = state
            case let .needs(ids): throw .memberContentsNeeded(ids)
            }
            guard m.isMember(event.author) else { throw .notAMember }
            if index.conversation == .channel, event.kind == .message || event.kind == .edit,
               (m.role(of: event.author) ?? .member) < .admin {
                throw .notAuthorized("only admins post in a channel")
            }
            membership = m
        }

        if event.kind == .equivocationProof {
            let accusation = try EquivocationProof.accusation(in: event)
            guard accusation.groupID == event.groupID else { throw .invalidProof("the proof is for another group") }
            return
        }
        switch event.kind {
        case .message, .edit, .fileOffer: return   // validity independent of the (purgeable) body
        case .delete, .reaction, .member, .prekey, .senderKey, .historyKey: guard event.body != nil else { throw .missingBody }
        default:
            guard event.body != nil else {
                if event.header.bodyHash.isEmpty { return }   // GENESIS/JOIN without content
                throw .missingBody                             // never purged
            }
        }
        let content = try context.content(of: event)

        func ancestor(_ raw: Data) throws(EventError) -> CausalGraph.Entry {
            let id: EventID
            do { id = try EventID(bytes: [UInt8](raw)) } catch {
                throw .invalidLength(field: "target", expected: EventID.byteCount, actual: raw.count)
            }
            guard let entry = graph.entry(id), graph.isAncestorOrSelf(id, of: ancestry) else {
                throw .targetNotInAncestors(id)
            }
            return entry
        }
        switch (event.kind, content.content) {
        case (.genesis, .genesis?), (.join, .join?): return
        case let (.prekey, .prekey(p)?):
            guard p.key.count == 32 else { throw .invalidLength(field: "prekey.key", expected: 32, actual: p.key.count) }
        case let (.senderKey, .senderKey(sk)?):
            guard sk.epoch >= 1, sk.boxes.count <= 1024 else { throw .malformed("sender key: epoch 0 or more than 1024 boxes") }
            for b in sk.boxes where b.recipient.count != 32 || b.prekey.count != 32 || b.sealed.count != 80 {
                throw .malformed("sender key box of \(b.recipient.count)/\(b.prekey.count)/\(b.sealed.count) bytes (32/32/80 expected)")
            }
        case let (.historyKey, .historyKey(hk)?):
            // PROTOCOL.md §5.8: only in a shared-history group, and only by an admin or the owner.
            guard let index = context.membershipIndex, index.hasRoles, index.history == .shared, let membership else {
                throw .notAuthorized("history keys exist only in groups with shared history")
            }
            guard (membership.role(of: event.author) ?? .member) >= .admin else {
                throw .notAuthorized("only admins share history keys")
            }
            try HistoryShare.checkStructure(hk)
        case let (.member, .member(m)?):
            guard (try? SigningPublicKey(bytes: [UInt8](m.target))) != nil else {
                throw .invalidLength(field: "member.target", expected: 32, actual: m.target.count)
            }
            guard let membership else { throw .notAuthorized("membership events exist only in groups with roles") }
            guard membership.authorizes(m, by: event.author) else {
                throw .notAuthorized("this member change needs another role (PROTOCOL.md §5.2)")
            }
        case let (.delete, .delete(delete)?):
            let t = try ancestor(delete.target)
            guard t.kind == .message else { throw .targetWrongKind(t.id) }
            guard t.author == event.author else { throw .targetAuthorMismatch(t.id) }
        case let (.reaction, .reaction(r)?):
            let emojiBytes = r.emoji.utf8.count
            guard emojiBytes <= EventLimits.maxEmojiBytes else { throw .emojiTooLong(emojiBytes) }
            guard emojiBytes > 0 || !r.removes.isEmpty else { throw .emptyReaction }
            let t = try ancestor(r.target)
            guard t.kind == .message else { throw .targetWrongKind(t.id) }
            for raw in r.removes {
                let removed = try ancestor(raw)
                guard removed.kind == .reaction else { throw .targetWrongKind(removed.id) }
                guard removed.author == event.author else { throw .targetAuthorMismatch(removed.id) }
            }
        default: throw .wrongContent(kind: event.kind.rawValue)
        }
    }
}
