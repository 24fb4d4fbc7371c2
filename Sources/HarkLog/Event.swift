import HarkCrypto
import HarkEventProto
import SwiftProtobuf
import struct Foundation.Data

/// A decoded event whose context-free checks all passed (see `init(decoding:)`): it is well
/// formed, within `EventLimits`, structurally consistent and signed by its author. Whether its
/// parents exist and agree with it is `EventValidator`'s job.
///
/// Keeps the header bytes exactly as received; the ID is their hash. Equality and hashing use
/// the ID, the signature and the body. Value type; thread-safe.
public struct Event: Sendable, Hashable {
    /// BLAKE2b-256("hark.event.v1", `headerBytes`).
    public let id: EventID
    /// The serialized `EventHeader` exactly as authored (≤ 2048 bytes).
    public let headerBytes: [UInt8]
    /// 64-byte Ed25519 signature over "hark-event-sig-v1" ‖ ID.
    public let signature: [UInt8]
    /// The body (≤ 65536 bytes): encrypted `Content`, or a cleartext `EquivocationProof` for
    /// EQUIVOCATION_PROOF. Nil when the event has none, or when it was purged (`isPurged`).
    public let body: [UInt8]?
    /// `headerBytes` decoded. Never re-serialise it to hash or sign.
    public let header: Hark_V1_EventHeader

    /// The group's ID (its genesis event's ID); nil for a genesis event.
    public let groupID: EventID?
    /// The author's Ed25519 key (32 bytes).
    public let author: SigningPublicKey
    /// The author's sequence number in the group, from 1.
    public let seq: UInt64
    /// The author's previous event (seq − 1); nil iff seq == 1.
    public let selfParent: EventID?
    /// The other parents, strictly ascending, without the self-parent (≤ 16).
    public let parents: [EventID]
    /// Lamport clock: 1 + max(lamport of all parents), 1 for genesis.
    public let lamport: UInt64
    /// The author's wall clock at creation, ms since the Unix epoch. Display only: never used
    /// for order or validity.
    public let wallMs: Int64
    /// A known kind (never UNSPECIFIED or unrecognised).
    public let kind: Hark_V1_EventKind

    /// True when the header commits to a body (`body_hash` set) that is not here: it was purged
    /// after a DELETE (PROTOCOL.md §4.7.2). The ID and signature still verify.
    public var isPurged: Bool { body == nil && !header.bodyHash.isEmpty }

    /// This event without its body, as a replica that purged it stores and relays it.
    public func purged() -> Event {
        var s = signedEvent
        s.body = Data()
        // swift-format-ignore: NeverUseForceTry
        // Dropping the body cannot make a decoded event invalid (purged bodies are allowed).
        return try! Event(decoding: s)
    }

    /// The self-parent (if any) followed by the other parents.
    public var allParents: [EventID] { (selfParent.map { [$0] } ?? []) + parents }

    /// True for a group's genesis event.
    public var isGenesis: Bool { groupID == nil }

    /// The group this event belongs to: `groupID`, or its own ID for a genesis event.
    public var effectiveGroupID: EventID { groupID ?? id }

    /// Decodes a `SignedEvent` and runs every context-free check:
    /// sizes (`EventLimits`); format 1; author 32 B; signature 64 B and valid (libsodium);
    /// kind known; group_id empty or 32 B with genesis ⇔ empty group_id ⇔ kind GENESIS; seq ≥ 1;
    /// self_parent empty iff seq == 1, else 32 B; parents 32 B each, strictly ascending, no
    /// duplicates, not the self_parent, ≤ 16; genesis has no parents and lamport 1; other events
    /// have ≥ 1 parent and lamport ≥ 2; body_hash empty ⇒ no body and body_len 0; body_hash set
    /// ⇒ 32 B, 1 ≤ body_len ≤ 65536, and either no body (purged) or body_len and hash match.
    /// - Throws: `EventError`, naming the first rule broken.
    public init(decoding signed: Hark_V1_SignedEvent) throws(EventError) {
        try self.init(decoding: signed, checkingSignature: true)
    }

    /// Decodes bytes this node stored after verifying them (its own SQLite store): every check of
    /// `init(decodingBytes:)` except the Ed25519 signature, which costs ~35 µs per event. The ID
    /// is still the hash of the header bytes, so the caller can compare it with the stored key.
    /// Never use it for bytes from the network or from a file; `hasValidSignature` re-checks.
    public init(decodingStored bytes: [UInt8]) throws(EventError) {
        guard bytes.count <= EventLimits.maxSignedEventBytes else { throw .eventTooLarge(bytes.count) }
        let signed: Hark_V1_SignedEvent
        do { signed = try Hark_V1_SignedEvent(serializedBytes: bytes) } catch {
            throw .malformed("SignedEvent does not parse: \(error)")
        }
        try self.init(decoding: signed, checkingSignature: false)
    }

    /// Whether the signature verifies (libsodium), for events decoded with `init(decodingStored:)`.
    public var hasValidSignature: Bool {
        author.isValidSignature(signature, for: EventSigning.message(for: id))
    }

    private init(decoding signed: Hark_V1_SignedEvent, checkingSignature: Bool) throws(EventError) {
        let headerBytes = [UInt8](signed.header)
        let signature = [UInt8](signed.sig)
        let bodyBytes = [UInt8](signed.body)
        guard headerBytes.count <= EventLimits.maxHeaderBytes else { throw .headerTooLarge(headerBytes.count) }
        guard bodyBytes.count <= EventLimits.maxBodyBytes else { throw .bodyTooLarge(bodyBytes.count) }

        let header: Hark_V1_EventHeader
        do { header = try Hark_V1_EventHeader(serializedBytes: headerBytes) } catch {
            throw .malformed("EventHeader does not parse: \(error)")
        }
        guard header.format == EventLimits.format else { throw .unsupportedFormat(header.format) }

        // Authenticity first: everything after this is the author's claim.
        let authorBytes = [UInt8](header.author)
        let author: SigningPublicKey
        do { author = try SigningPublicKey(bytes: authorBytes) } catch {
            throw .invalidLength(field: "author", expected: Ed25519.publicKeyByteCount, actual: authorBytes.count)
        }
        guard signature.count == EventLimits.signatureBytes else {
            throw .invalidLength(field: "signature", expected: EventLimits.signatureBytes, actual: signature.count)
        }
        let id = EventID(hashingHeader: headerBytes)
        if checkingSignature {
            guard author.isValidSignature(signature, for: EventSigning.message(for: id)) else { throw .badSignature }
        }

        let structure = try EventStructure(header: header, body: bodyBytes)

        self.id = id
        self.headerBytes = headerBytes
        self.signature = signature
        self.body = bodyBytes.isEmpty ? nil : bodyBytes
        self.header = header
        self.groupID = structure.groupID
        self.author = author
        self.seq = header.seq
        self.selfParent = structure.selfParent
        self.parents = structure.parents
        self.lamport = header.lamport
        self.wallMs = header.wallMs
        self.kind = header.kind
    }

    /// Decodes serialized `SignedEvent` bytes (≤ `EventLimits.maxSignedEventBytes`), then as
    /// `init(decoding:)`. Safe on arbitrary input: never traps.
    /// - Throws: `EventError.eventTooLarge`, `.malformed` if the envelope does not parse, or
    ///   any error of `init(decoding:)`.
    public init(decodingBytes bytes: [UInt8]) throws(EventError) {
        guard bytes.count <= EventLimits.maxSignedEventBytes else { throw .eventTooLarge(bytes.count) }
        let signed: Hark_V1_SignedEvent
        do { signed = try Hark_V1_SignedEvent(serializedBytes: bytes) } catch {
            throw .malformed("SignedEvent does not parse: \(error)")
        }
        try self.init(decoding: signed)
    }

    /// The envelope to send or store: header bytes as received, signature, body (empty if none).
    public var signedEvent: Hark_V1_SignedEvent {
        var s = Hark_V1_SignedEvent()
        s.header = Data(headerBytes)
        s.sig = Data(signature)
        if let body { s.body = Data(body) }
        return s
    }

    /// `signedEvent` serialized (≤ `EventLimits.maxSignedEventBytes` bytes).
    public func serializedBytes() -> [UInt8] {
        // swift-format-ignore: NeverUseForceTry
        // Encoding a message of only bytes fields cannot fail (no required fields, no Any).
        try! signedEvent.serializedBytes()
    }

    public static func == (a: Event, b: Event) -> Bool {
        a.id == b.id && a.signature == b.signature && a.body == b.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(signature)
        hasher.combine(body)
    }
}

/// What the event signature covers.
enum EventSigning {
    /// ASCII "hark-event-sig-v1" ‖ ID (17 + 32 bytes).
    static func message(for id: EventID) -> [UInt8] { EventDomain.signaturePrefix + id.bytes }

    /// BLAKE2b-256("hark.body.v1", body).
    static func bodyHash(_ body: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(body, byteCount: EventLimits.hashBytes, personal: EventDomain.bodyPersonal)
    }
}
