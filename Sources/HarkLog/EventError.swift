/// Why an event was refused or could not be made. One case per rule, so callers can log and
/// test the exact reason. Value type; thread-safe.
public enum EventError: Error, Equatable, Sendable, CustomStringConvertible {
    // Encoding
    /// The bytes are not a valid protobuf `SignedEvent`/`EventHeader`/`Content`; says which and why.
    case malformed(String)
    /// `format` is not `EventLimits.format`.
    case unsupportedFormat(UInt32)
    /// The serialized header is larger than `EventLimits.maxHeaderBytes` (value: its size in bytes).
    case headerTooLarge(Int)
    /// The body is larger than `EventLimits.maxBodyBytes` (value: its size in bytes).
    case bodyTooLarge(Int)
    /// The whole `SignedEvent` is larger than `EventLimits.maxSignedEventBytes` (bytes).
    case eventTooLarge(Int)
    /// A fixed-size field (`field` names it) has the wrong size in bytes.
    case invalidLength(field: String, expected: Int, actual: Int)
    /// Text that should be a hex event ID did not decode.
    case invalidHex(String)
    /// `kind` is UNSPECIFIED or a value this code does not know (raw value).
    case unknownKind(Int)

    // Authenticity
    /// The Ed25519 signature does not verify (libsodium) for the author over "hark-event-sig-v1" ‖ ID.
    /// Not a verdict on the ID: anyone can pair a genuine header with a junk signature.
    case badSignature

    // Structure (context-free)
    /// Genesis ⇔ empty group_id ⇔ kind GENESIS was violated.
    case genesisMismatch(kind: Int, hasGroupID: Bool)
    /// A genesis event named parents (it must be the root of its group).
    case genesisHasParents
    /// `seq` is 0 (the first event of an author is seq 1).
    case seqZero
    /// `seq` is 1 but a self_parent is given.
    case unexpectedSelfParent
    /// `seq` > 1 (value) but self_parent is empty.
    case missingSelfParent(seq: UInt64)
    /// Other parents are not in strictly ascending bytewise order.
    case parentsNotSorted
    /// The same parent ID appears twice.
    case duplicateParent(EventID)
    /// The self_parent also appears among the other parents.
    case selfParentInParents
    /// More than `EventLimits.maxParents` other parents (value: how many).
    case tooManyParents(Int)
    /// A non-genesis event has neither a self_parent nor other parents.
    case noParents
    /// `lamport` is below its floor (1, or 2 when the event has parents) (value: the lamport).
    case lamportTooSmall(UInt64)
    /// `lamport` is not exactly what the rule demands (1 for genesis, 1 + max of parents).
    case wrongLamport(expected: UInt64, actual: UInt64)
    /// The event has no body (none declared, or purged) but its kind or this operation needs it.
    /// Not a verdict on the ID: anyone can strip a body, so do not remember it as refused.
    case missingBody
    /// A body (or a non-zero body_len) is present although body_hash is empty.
    case unexpectedBody
    /// A READ event (a read marker) declares a body; it must carry none.
    case readMarkerHasBody
    /// In a group with roles: the author is not a member in the state folded from the event's
    /// ancestors (PROTOCOL.md §5.3).
    case notAMember
    /// In a group with roles: the author's role does not allow this event (a MEMBER change it
    /// may not make, or a post in a channel by a non-admin).
    case notAuthorized(String)
    /// BLAKE2b-256("hark.body.v1", body) differs from body_hash.
    case bodyHashMismatch
    /// body_len (declared) differs from the body's size in bytes (actual).
    case bodyLengthMismatch(declared: UInt32, actual: Int)

    // Ancestry (EventValidator)
    /// Parents not yet delivered; the event must wait for them.
    case missingParents([EventID])
    /// The self_parent was authored by a different key.
    case selfParentAuthorMismatch
    /// The self_parent's seq is not `expected` (= event.seq − 1); `actual` is what it has.
    case selfParentSeqMismatch(expected: UInt64, actual: UInt64)
    /// A parent (ID) belongs to another group.
    case foreignParent(EventID)

    // Kind rules (EventValidator with a GroupContext; PROTOCOL.md §4.3 rules 6–10)
    /// The decrypted body is not the `Content` case the kind demands (value: the kind's raw value).
    case wrongContent(kind: Int)
    /// The target (or a removed reaction) is not in the event's ancestors (not delivered before it).
    case targetNotInAncestors(EventID)
    /// The target is not of the kind the rule demands (a MESSAGE; a REACTION for `removes`).
    case targetWrongKind(EventID)
    /// The target (or a removed reaction) has another author, and the rule demands the same one.
    case targetAuthorMismatch(EventID)
    /// A reaction's emoji is longer than `EventLimits.maxEmojiBytes` (value: its UTF-8 size).
    case emojiTooLong(Int)
    /// A REACTION with neither an emoji nor anything to remove.
    case emptyReaction
    /// An EQUIVOCATION_PROOF that does not prove an equivocation in this group; says why.
    case invalidProof(String)
    /// A valid EQUIVOCATION_PROOF against the event's author is among its ancestors.
    case authorEquivocated

    // Authoring / body crypto
    /// `EventAuthor.make` was given inconsistent arguments; says which.
    case invalidArguments(String)
    /// The body did not decrypt under the group key and associated data (wrong key, wrong
    /// group/author/seq, or tampering), or its padding is invalid.
    case bodyDecryptionFailed

    // Not a verdict
    /// The group's `MembershipIndex` lacks the contents of these MEMBER events (held, not yet
    /// recorded): read them, `record` them and validate again. Says nothing about the event.
    case memberContentsNeeded([EventID])

    public var description: String {
        switch self {
        case let .malformed(why): return "malformed event: \(why)"
        case let .unsupportedFormat(f): return "unsupported event format \(f) (expected \(EventLimits.format))"
        case let .headerTooLarge(n): return "event header is \(n) bytes, limit \(EventLimits.maxHeaderBytes)"
        case let .bodyTooLarge(n): return "event body is \(n) bytes, limit \(EventLimits.maxBodyBytes)"
        case let .eventTooLarge(n): return "signed event is \(n) bytes, limit \(EventLimits.maxSignedEventBytes)"
        case let .invalidLength(field, expected, actual): return "\(field) must be \(expected) bytes, got \(actual)"
        case let .invalidHex(why): return "invalid event ID hex: \(why)"
        case let .unknownKind(k): return "unknown or unspecified event kind \(k)"
        case .badSignature: return "event signature does not verify for its author"
        case let .genesisMismatch(kind, hasGroupID):
            return "genesis rule violated: kind \(kind) with \(hasGroupID ? "a" : "no") group_id (GENESIS ⇔ empty group_id)"
        case .genesisHasParents: return "genesis event must not have parents"
        case .seqZero: return "seq must be ≥ 1"
        case .unexpectedSelfParent: return "seq 1 must not have a self_parent"
        case let .missingSelfParent(seq): return "seq \(seq) > 1 needs a self_parent"
        case .parentsNotSorted: return "parents must be strictly ascending bytewise"
        case let .duplicateParent(id): return "parent \(id) appears twice"
        case .selfParentInParents: return "self_parent must not be repeated among the other parents"
        case let .tooManyParents(n): return "\(n) parents, limit \(EventLimits.maxParents)"
        case .noParents: return "non-genesis event must have at least one parent"
        case let .lamportTooSmall(l): return "lamport \(l) is below its minimum"
        case let .wrongLamport(e, a): return "lamport must be \(e), got \(a)"
        case .missingBody: return "the event's body is absent (none, or purged) but is needed"
        case .unexpectedBody: return "body or body_len present without body_hash"
        case .readMarkerHasBody: return "a READ event (read marker) must not carry a body"
        case .notAMember: return "the author is not a member of the group at this point of its history"
        case let .notAuthorized(why): return "not allowed: \(why)"
        case .bodyHashMismatch: return "body does not match body_hash"
        case let .bodyLengthMismatch(d, a): return "body_len says \(d) bytes, body is \(a)"
        case let .missingParents(ids): return "missing parents: \(ids.map(\.description).joined(separator: ", "))"
        case .selfParentAuthorMismatch: return "self_parent has a different author"
        case let .selfParentSeqMismatch(e, a): return "self_parent must have seq \(e), has \(a)"
        case let .foreignParent(id): return "parent \(id) belongs to another group"
        case let .wrongContent(kind): return "body content does not match event kind \(kind)"
        case let .targetNotInAncestors(id): return "target \(id) is not among the event's ancestors"
        case let .targetWrongKind(id): return "target \(id) has the wrong kind"
        case let .targetAuthorMismatch(id): return "target \(id) has another author"
        case let .emojiTooLong(n): return "emoji is \(n) bytes, limit \(EventLimits.maxEmojiBytes)"
        case .emptyReaction: return "reaction has neither an emoji nor removes"
        case let .invalidProof(why): return "invalid equivocation proof: \(why)"
        case .authorEquivocated: return "an equivocation proof against the author is among the event's ancestors"
        case let .invalidArguments(why): return "cannot author event: \(why)"
        case .bodyDecryptionFailed: return "event body did not decrypt (wrong key, wrong context, or tampered)"
        case let .memberContentsNeeded(ids): return "the contents of \(ids.count) MEMBER events are needed to fold the membership"
        }
    }
}
