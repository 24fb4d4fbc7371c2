import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// One test per context-free rule of `Event(decoding:)`. Each mutated header is re-signed, so
/// the signature is valid and the rule under test is what rejects it.
@Suite struct StructureRuleTests {
    let s: Fixture.Small
    init() throws { s = try Fixture.small() }

    func expectRejected(_ expected: EventError, from base: Event? = nil, key: SigningKeyPair = Fixture.alice,
                        body: [UInt8]?? = .none, sourceLocation: SourceLocation = #_sourceLocation,
                        _ modify: (inout Hark_V1_EventHeader) -> Void) {
        #expect(throws: expected, sourceLocation: sourceLocation) {
            try Fixture.resigned(base ?? s.alice2, key: key, body: body, modify)
        }
    }

    @Test func unmodifiedResignIsAccepted() throws {
        let e = try Fixture.resigned(s.alice2, key: Fixture.alice) { _ in }
        #expect(e == s.alice2)   // Ed25519 is deterministic
    }

    @Test func format() {
        expectRejected(.unsupportedFormat(2)) { $0.format = 2 }
        expectRejected(.unsupportedFormat(0)) { $0.format = 0 }
    }

    @Test func authorAndSignatureSizes() throws {
        expectRejected(.invalidLength(field: "author", expected: 32, actual: 31)) { $0.author = $0.author.prefix(31) }
        var signed = s.alice2.signedEvent
        signed.sig = signed.sig.prefix(63)
        #expect(throws: EventError.invalidLength(field: "signature", expected: 64, actual: 63)) { try Event(decoding: signed) }
        signed.sig = Data()
        #expect(throws: EventError.invalidLength(field: "signature", expected: 64, actual: 0)) { try Event(decoding: signed) }
    }

    @Test func signatureByAnotherKeyIsBad() {
        expectRejected(.badSignature, key: Fixture.bob) { _ in }
    }

    @Test func kindMustBeKnown() {
        expectRejected(.unknownKind(0)) { $0.kind = .unspecified }
        expectRejected(.unknownKind(99)) { $0.kind = .UNRECOGNIZED(99) }
        expectRejected(.unknownKind(10)) { $0.kind = .UNRECOGNIZED(10) }
        // The kinds of open groups (rules = 0) are structurally fine (their rules need ancestors: KindRuleTests).
        for kind in [Hark_V1_EventKind.edit, .delete, .reaction, .equivocationProof, .fileOffer] {
            let e = try? Fixture.resigned(s.alice2, key: Fixture.alice) { $0.kind = kind }
            #expect(e?.kind == kind)
        }
    }

    @Test func genesisIffEmptyGroupIDIffKindGenesis() {
        expectRejected(.genesisMismatch(kind: 1, hasGroupID: true)) { $0.kind = .genesis }
        expectRejected(.genesisMismatch(kind: 2, hasGroupID: false)) { $0.groupID = Data() }
        expectRejected(.genesisMismatch(kind: 3, hasGroupID: false), from: s.genesis) { $0.kind = .join }
        expectRejected(.invalidLength(field: "group_id", expected: 32, actual: 31)) { $0.groupID = $0.groupID.prefix(31) }
    }

    @Test func genesisIsARootWithLamportOne() {
        let other = Fixture.randomID()
        expectRejected(.genesisHasParents, from: s.genesis) { $0.parents = [other] }
        expectRejected(.wrongLamport(expected: 1, actual: 2), from: s.genesis) { $0.lamport = 2 }
        expectRejected(.wrongLamport(expected: 1, actual: 0), from: s.genesis) { $0.lamport = 0 }
        expectRejected(.genesisHasParents, from: s.genesis) { $0.seq = 2; $0.selfParent = other }
    }

    @Test func seqAndSelfParent() {
        expectRejected(.seqZero) { $0.seq = 0 }
        expectRejected(.unexpectedSelfParent) { $0.seq = 1 }
        expectRejected(.missingSelfParent(seq: 2)) { $0.selfParent = Data() }
        expectRejected(.invalidLength(field: "self_parent", expected: 32, actual: 33)) { $0.selfParent.append(0) }
    }

    @Test func parentsSortedUniqueSizedAndBounded() {
        let low = Data([UInt8](repeating: 0, count: 32)), high = Data([UInt8](repeating: 0xff, count: 32))
        expectRejected(.parentsNotSorted) { $0.parents = [high, low] }
        expectRejected(.duplicateParent(try! EventID(bytes: [UInt8](low)))) { $0.parents = [low, low] }
        expectRejected(.selfParentInParents) { $0.parents.append($0.selfParent); $0.parents.sort { $0.lexicographicallyPrecedes($1) } }
        expectRejected(.invalidLength(field: "parent", expected: 32, actual: 31)) { $0.parents = [low.prefix(31)] }
        let seventeen = (0..<17).map { Data([UInt8](repeating: UInt8($0), count: 32)) }
        expectRejected(.tooManyParents(17)) { $0.parents = seventeen }
        // 16 other parents plus a self-parent is within the limit (only lamport is then wrong
        // for the validator, not for decoding).
        #expect(throws: Never.self) { try Fixture.resigned(s.alice2, key: Fixture.alice) { $0.parents = Array(seventeen.dropFirst()) } }
    }

    @Test func nonGenesisNeedsAParentAndLamportAboveOne() {
        expectRejected(.noParents, from: s.bob1, key: Fixture.bob) { $0.parents = [] }
        expectRejected(.lamportTooSmall(1)) { $0.lamport = 1 }
        expectRejected(.lamportTooSmall(0)) { $0.lamport = 0 }
    }

    @Test func bodyRules() throws {
        let body = try #require(s.alice2.body)
        // body_hash set and the body absent: purged (PROTOCOL.md §4.7.2). Same ID, same signature.
        let purged = try Fixture.resigned(s.alice2, key: Fixture.alice, body: .some(nil)) { _ in }
        #expect(purged.id == s.alice2.id && purged.isPurged && purged.body == nil)
        #expect(purged == s.alice2.purged())
        #expect(!s.alice2.isPurged)
        #expect(throws: EventError.missingBody) { try BodyCipher.open(purged, groupKey: Fixture.groupKey) }
        // A purged body's declared size must still be 1…65536.
        expectRejected(.bodyTooLarge(65537), body: .some(nil)) { $0.bodyLen = 65537 }
        expectRejected(.bodyLengthMismatch(declared: 0, actual: 0), body: .some(nil)) { $0.bodyLen = 0 }
        expectRejected(.bodyLengthMismatch(declared: 0, actual: body.count)) { $0.bodyLen = 0 }
        expectRejected(.unexpectedBody) { $0.bodyHash = Data(); $0.bodyLen = 0 }
        expectRejected(.unexpectedBody, body: .some(nil)) { $0.bodyHash = Data(); $0.bodyLen = 5 }
        expectRejected(.invalidLength(field: "body_hash", expected: 32, actual: 31)) { $0.bodyHash = $0.bodyHash.prefix(31) }
        expectRejected(.bodyLengthMismatch(declared: UInt32(body.count + 1), actual: body.count)) { $0.bodyLen += 1 }
        expectRejected(.bodyHashMismatch, body: .some(body + [0])) { $0.bodyLen += 1 }
        // No body at all is fine when the header commits to none.
        let bare = try Fixture.resigned(s.alice2, key: Fixture.alice, body: .some(nil)) { $0.bodyHash = Data(); $0.bodyLen = 0 }
        #expect(bare.body == nil && bare.signedEvent.body.isEmpty)
    }
}
