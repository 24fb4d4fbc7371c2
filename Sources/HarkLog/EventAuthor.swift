import HarkCrypto
import HarkEventProto
import SwiftProtobuf
import struct Foundation.Data

/// Authoring events. Pure: the wall clock is passed in. Thread-safe (no state).
public enum EventAuthor {
    /// Makes, signs and checks a new event.
    ///
    /// - `parents` are sorted and deduplicated, the self-parent is removed from them, and if more
    ///   than 16 remain the 16 greatest in `(lamport, id)` order are kept.
    /// - `lamport` = 1 + max(lamport of the self-parent and the kept parents), 1 if none.
    /// - `body_hash`/`body_len` are filled from `body` (nil = no body).
    /// - The result passes `Event(decoding:)` and `EventValidator.validate` against the given
    ///   parents, so a caller cannot author an event its peers would refuse.
    ///
    /// - Parameters:
    ///   - groupID: nil exactly when `kind` is GENESIS.
    ///   - seq: 1 + `selfParent.seq`, or 1 with no `selfParent`.
    ///   - wallMs: the author's clock, ms since the Unix epoch (display only).
    ///   - body: the encrypted body (`BodyCipher.seal`), 1…65536 bytes, or nil.
    /// - Throws: `EventError.invalidArguments` for inconsistent arguments, `.bodyTooLarge`,
    ///   `.headerTooLarge`, or the decoding/validation error if the result would be refused.
    public static func make(kind: Hark_V1_EventKind, groupID: EventID?, author: SigningKeyPair, seq: UInt64,
                            selfParent: Event?, parents: [Event], wallMs: Int64, body: [UInt8]?) throws(EventError) -> Event {
        if let selfParent {
            guard selfParent.author == author.publicKey else { throw .invalidArguments("self-parent has another author") }
            guard seq == selfParent.seq &+ 1 else {
                throw .invalidArguments("seq \(seq) must follow the self-parent's seq \(selfParent.seq)")
            }
        } else if seq != 1 {
            throw .invalidArguments("seq \(seq) > 1 needs a self-parent")
        }
        if let body {
            guard !body.isEmpty else { throw .invalidArguments("body must be nil or non-empty") }
            guard body.count <= EventLimits.maxBodyBytes else { throw .bodyTooLarge(body.count) }
        }

        // Other parents: unique, not the self-parent, capped keeping the latest in total order.
        var unique: [EventID: Event] = [:]
        for p in parents where p.id != selfParent?.id { unique[p.id] = p }
        let kept = unique.values.sorted { EventOrder.precedes($1, $0) }.prefix(EventLimits.maxParents)
        let otherParents = kept.map(\.id).sorted()

        let maxParentLamport = ((selfParent.map { [$0] } ?? []) + kept).map(\.lamport).reduce(0, max)
        let (lamport, overflow) = maxParentLamport.addingReportingOverflow(1)
        guard !overflow else { throw .invalidArguments("parent lamport \(maxParentLamport) leaves no successor") }

        var header = Hark_V1_EventHeader()
        header.format = EventLimits.format
        if let groupID { header.groupID = Data(groupID.bytes) }
        header.author = Data(author.publicKey.bytes)
        header.seq = seq
        if let selfParent { header.selfParent = Data(selfParent.id.bytes) }
        header.parents = otherParents.map { Data($0.bytes) }
        header.lamport = lamport
        header.wallMs = wallMs
        header.kind = kind
        if let body {
            header.bodyHash = Data(EventSigning.bodyHash(body))
            header.bodyLen = UInt32(body.count)
        }
        let headerBytes: [UInt8]
        do { headerBytes = try header.serializedBytes() } catch {
            throw .malformed("EventHeader does not serialize: \(error)")
        }
        guard headerBytes.count <= EventLimits.maxHeaderBytes else { throw .headerTooLarge(headerBytes.count) }

        let event = try Event(decoding: sign(headerBytes: headerBytes, body: body, key: author))
        var known: [EventID: Event] = [:]
        for p in kept { known[p.id] = p }
        if let selfParent { known[selfParent.id] = selfParent }
        try EventValidator.validate(event, parents: known)
        return event
    }

    /// Signs header bytes as given, with no checks at all, and wraps them in a `SignedEvent`.
    /// For tools and tests that need events `make` would refuse; feed the result to
    /// `Event(decoding:)` to check it.
    /// - Parameters:
    ///   - headerBytes: a serialized `EventHeader` (hashed exactly as given).
    ///   - body: the body bytes, or nil.
    ///   - key: the signing key; the header's `author` should be its public key.
    public static func sign(headerBytes: [UInt8], body: [UInt8]?, key: SigningKeyPair) -> Hark_V1_SignedEvent {
        let id = EventID(hashingHeader: headerBytes)
        var signed = Hark_V1_SignedEvent()
        signed.header = Data(headerBytes)
        signed.sig = Data(key.signature(for: EventSigning.message(for: id)))
        if let body { signed.body = Data(body) }
        return signed
    }

    /// BLAKE2b-256(personal "hark.body.v1", body): the value of `body_hash` (32 bytes).
    public static func bodyHash(_ body: [UInt8]) -> [UInt8] { EventSigning.bodyHash(body) }
}
