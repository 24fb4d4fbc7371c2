import HarkCrypto
import HarkEventProto
import SwiftProtobuf
import struct Foundation.Data

/// Proofs that an author signed two different events with the same seq (PROTOCOL.md §4.6), and
/// the EQUIVOCATION_PROOF events that carry them. A proof is checkable by anyone from its bytes
/// alone: it holds both signed headers. Pure; thread-safe (no state).
public enum EquivocationProof {
    /// What a valid proof establishes.
    public struct Accusation: Sendable, Hashable {
        /// The equivocating author.
        public let author: SigningPublicKey
        /// The sequence number used twice.
        public let seq: UInt64
        /// The group both events claim (nil if both are genesis headers).
        public let groupID: EventID?
        /// The two event IDs, smaller first.
        public let first: EventID
        public let second: EventID
    }

    /// The proof that `a` and `b` equivocate. Headers are stored exactly as signed, the one with
    /// the smaller ID first, so two members proving the same fork write the same bytes.
    /// - Throws: `EventError.invalidProof` unless `a` and `b` have the same author, seq and group
    ///   and different IDs.
    public static func make(_ a: Event, _ b: Event) throws(EventError) -> Hark_V1_EquivocationProof {
        guard a.author == b.author else { throw .invalidProof("different authors") }
        guard a.seq == b.seq else { throw .invalidProof("different seqs") }
        guard a.groupID == b.groupID else { throw .invalidProof("different groups") }
        guard a.id != b.id else { throw .invalidProof("the same event twice") }
        let (x, y) = a.id < b.id ? (a, b) : (b, a)
        var p = Hark_V1_EquivocationProof()
        p.headerA = Data(x.headerBytes)
        p.sigA = Data(x.signature)
        p.headerB = Data(y.headerBytes)
        p.sigB = Data(y.signature)
        return p
    }

    /// Checks a proof with no other context: both headers decode as `EventHeader` (≤ 2048 B),
    /// both signatures (64 B) verify (libsodium) for the header's author over
    /// "hark-event-sig-v1" ‖ ID, and the two have the same author, seq and group_id but
    /// different IDs. The order of a and b does not matter.
    /// - Throws: `EventError.invalidProof` naming the first check that fails.
    @discardableResult
    public static func verify(_ proof: Hark_V1_EquivocationProof) throws(EventError) -> Accusation {
        let (idA, hA) = try signedHeader([UInt8](proof.headerA), sig: [UInt8](proof.sigA), name: "a")
        let (idB, hB) = try signedHeader([UInt8](proof.headerB), sig: [UInt8](proof.sigB), name: "b")
        guard hA.author == hB.author else { throw .invalidProof("different authors") }
        guard hA.seq == hB.seq else { throw .invalidProof("different seqs") }
        guard hA.groupID == hB.groupID else { throw .invalidProof("different groups") }
        guard idA != idB else { throw .invalidProof("the same event twice") }
        let group: EventID?
        if hA.groupID.isEmpty { group = nil } else {
            do { group = try EventID(bytes: [UInt8](hA.groupID)) } catch { throw .invalidProof("group_id is not 32 bytes") }
        }
        // swift-format-ignore: NeverUseForceTry
        // The author decoded in signedHeader, so this cannot fail.
        let author = try! SigningPublicKey(bytes: [UInt8](hA.author))
        return Accusation(author: author, seq: hA.seq, groupID: group,
                          first: min(idA, idB), second: max(idA, idB))
    }

    /// Parses the cleartext body of an EQUIVOCATION_PROOF event and verifies it (`verify`).
    /// - Throws: `EventError.missingBody` for a body-less (or purged) event, `.invalidProof`.
    public static func accusation(in event: Event) throws(EventError) -> Accusation {
        guard let body = event.body else { throw .missingBody }
        let proof: Hark_V1_EquivocationProof
        do { proof = try Hark_V1_EquivocationProof(serializedBytes: body) } catch {
            throw .invalidProof("body is not an EquivocationProof: \(error)")
        }
        return try verify(proof)
    }

    /// Authors the EQUIVOCATION_PROOF event for the fork `a`/`b` (found by `CausalGraph.insert`).
    /// Anyone may author it, in the group of the fork. Its body is the serialized proof in clear
    /// (not encrypted): everyone, including future members, can check it.
    /// - Parameters: as `EventAuthor.make` (the group is the fork's).
    /// - Throws: `.invalidProof` if `a`/`b` are no fork (or a genesis), else as `EventAuthor.make`.
    public static func makeEvent(proving a: Event, _ b: Event, by author: SigningKeyPair, seq: UInt64,
                                 selfParent: Event?, parents: [Event], wallMs: Int64) throws(EventError) -> Event {
        let proof = try make(a, b)
        guard let group = a.groupID else { throw .invalidProof("a genesis cannot be proven forked within its group") }
        let body: [UInt8]
        do { body = try proof.serializedBytes() } catch { throw .malformed("EquivocationProof does not serialize: \(error)") }
        return try EventAuthor.make(kind: .equivocationProof, groupID: group, author: author, seq: seq,
                                    selfParent: selfParent, parents: parents, wallMs: wallMs, body: body)
    }

    private static func signedHeader(_ bytes: [UInt8], sig: [UInt8], name: String) throws(EventError) -> (EventID, Hark_V1_EventHeader) {
        guard bytes.count <= EventLimits.maxHeaderBytes else { throw .invalidProof("header_\(name) is too large") }
        let header: Hark_V1_EventHeader
        do { header = try Hark_V1_EventHeader(serializedBytes: bytes) } catch {
            throw .invalidProof("header_\(name) does not parse")
        }
        let author: SigningPublicKey
        do { author = try SigningPublicKey(bytes: [UInt8](header.author)) } catch {
            throw .invalidProof("header_\(name) author is not 32 bytes")
        }
        guard sig.count == EventLimits.signatureBytes else { throw .invalidProof("sig_\(name) is not 64 bytes") }
        let id = EventID(hashingHeader: bytes)
        guard author.isValidSignature(sig, for: EventSigning.message(for: id)) else {
            throw .invalidProof("sig_\(name) does not verify")
        }
        return (id, header)
    }
}
