import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import PropertyBased
import Testing

@Suite struct EventFormatTests {
    @Test func idIsHashOfHeaderBytesAndSurvivesTheWire() throws {
        let s = try Fixture.small()
        let e = s.alice2
        #expect(e.id.bytes == BLAKE2b.hash(e.headerBytes, byteCount: 32, personal: "hark.event.v1"))
        let again = try Event(decodingBytes: e.serializedBytes())
        #expect(again == e)
        #expect(again.id == e.id && again.headerBytes == e.headerBytes && again.body == e.body)
        // The signature is over the prefix and the ID.
        #expect(e.author.isValidSignature(e.signature, for: Array("hark-event-sig-v1".utf8) + e.id.bytes))
    }

    @Test func decodedFieldsMatchTheHeader() throws {
        let s = try Fixture.small()
        let e = s.alice2
        #expect(e.groupID == s.genesis.id)
        #expect(e.author == Fixture.alice.publicKey)
        #expect(e.seq == 2 && e.selfParent == s.genesis.id && e.parents == [s.bob1.id])
        #expect(e.allParents == [s.genesis.id, s.bob1.id])
        #expect(e.lamport == 3 && e.wallMs == 2_000 && e.kind == .message)
        #expect(s.genesis.groupID == nil && s.genesis.isGenesis && s.genesis.effectiveGroupID == s.genesis.id)
        #expect(s.genesis.lamport == 1 && s.bob1.lamport == 2)
    }

    /// Header bytes that do not re-serialise to themselves (a 2-byte varint for `format`) still
    /// verify, and the ID is the hash of the bytes as received.
    @Test func nonCanonicalHeaderBytesAreHashedAsReceived() throws {
        let s = try Fixture.small()
        var header = s.alice2.header
        header.format = 0
        let rest: [UInt8] = try header.serializedBytes()
        let bytes: [UInt8] = [0x08, 0x81, 0x00] + rest   // field 1 = 1, over-long varint
        let e = try Event(decoding: EventAuthor.sign(headerBytes: bytes, body: s.alice2.body, key: Fixture.alice))
        #expect(e.headerBytes == bytes)
        #expect(e.id == EventID(hashingHeader: bytes))
        let reserialised: [UInt8] = try e.header.serializedBytes()
        #expect(reserialised != bytes)
        #expect(e.id != EventID(hashingHeader: reserialised))
        #expect(try Event(decodingBytes: e.serializedBytes()).id == e.id)
    }

    @Test func flippedBitInAuthorKeyIsBadSignature() throws {
        let e = try Fixture.small().alice2
        var signed = e.signedEvent
        var bytes = e.headerBytes
        let author = e.author.bytes
        let at = (0...(bytes.count - 32)).first { Array(bytes[$0..<$0 + 32]) == author }!
        bytes[at + 5] ^= 0x10
        signed.header = Data(bytes)
        #expect(throws: EventError.badSignature) { try Event(decoding: signed) }
    }

    @Test func flippedBitAnywhereInHeaderIsRejected() async throws {
        let e = try Fixture.small().alice2
        await propertyCheck(count: 200, input: Gen.int(in: 0...(e.headerBytes.count * 8 - 1))) { bit in
            var bytes = e.headerBytes
            bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            var signed = e.signedEvent
            signed.header = Data(bytes)
            do throws(EventError) {
                _ = try Event(decoding: signed)
                Issue.record("header with bit \(bit) flipped was accepted")
            } catch {
                switch error {
                case .badSignature, .malformed, .unsupportedFormat, .invalidLength: break
                default: Issue.record("bit \(bit): unexpected \(error)")
                }
            }
        }
    }

    @Test func flippedBitInSignatureIsBadSignature() async throws {
        let e = try Fixture.small().alice2
        await propertyCheck(count: 100, input: Gen.int(in: 0...(64 * 8 - 1))) { bit in
            var sig = e.signature
            sig[bit / 8] ^= UInt8(1 << (bit % 8))
            var signed = e.signedEvent
            signed.sig = Data(sig)
            #expect(throws: EventError.badSignature) { try Event(decoding: signed) }
        }
    }

    @Test func flippedBitInBodyIsBodyHashMismatch() async throws {
        let e = try Fixture.small().alice2
        let body = try #require(e.body)
        await propertyCheck(count: 100, input: Gen.int(in: 0...(body.count * 8 - 1))) { bit in
            var b = body
            b[bit / 8] ^= UInt8(1 << (bit % 8))
            var signed = e.signedEvent
            signed.body = Data(b)
            #expect(throws: EventError.bodyHashMismatch) { try Event(decoding: signed) }
        }
    }

    @Test func truncatedEventsAreRejectedWithoutCrashing() async throws {
        let e = try Fixture.small().alice2
        let bytes = e.serializedBytes()
        let purged = e.purged().serializedBytes()   // header and sig: a prefix of the full encoding
        #expect(Array(bytes.prefix(purged.count)) == purged)
        await propertyCheck(count: 300, input: Gen.int(in: 0...(bytes.count - 1))) { cut in
            if cut == purged.count {   // cut exactly before the body: the purged event (§4.7.2)
                #expect((try? Event(decodingBytes: Array(bytes.prefix(cut)))) == e.purged())
            } else {
                #expect(throws: EventError.self) { try Event(decodingBytes: Array(bytes.prefix(cut))) }
            }
        }
    }

    @Test func randomBytesAreRejectedWithoutCrashing() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...512)) { bytes in
            #expect(throws: EventError.self) { try Event(decodingBytes: bytes) }
        }
    }

    @Test func oversizedInputsAreRejectedBeforeParsing() throws {
        let e = try Fixture.small().alice2
        var signed = e.signedEvent
        signed.body = Data(count: EventLimits.maxBodyBytes + 1)
        #expect(throws: EventError.bodyTooLarge(65537)) { try Event(decoding: signed) }
        signed = e.signedEvent
        signed.header = Data(count: EventLimits.maxHeaderBytes + 1)
        #expect(throws: EventError.headerTooLarge(2049)) { try Event(decoding: signed) }
        let huge = [UInt8](repeating: 0, count: EventLimits.maxSignedEventBytes + 1)
        #expect(throws: EventError.eventTooLarge(huge.count)) { try Event(decodingBytes: huge) }
    }

    @Test func equalityAndHashingFollowIDSignatureAndBody() throws {
        let s = try Fixture.small()
        let again = try Event(decodingBytes: s.alice2.serializedBytes())
        #expect(Set([s.alice2, again, s.bob1]).count == 2)
        #expect(s.alice2 != s.bob1)
    }
}
