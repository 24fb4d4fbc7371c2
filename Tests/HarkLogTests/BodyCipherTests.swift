import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import PropertyBased
import Testing

@Suite struct BodyCipherTests {
    let group = try! EventID(bytes: [UInt8](repeating: 9, count: 32))

    @Test func roundTripPadsTo32ByteBlocks() async {
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 0...512)) { raw in
            let content = Fixture.text(String(decoding: raw, as: UTF8.self))
            do {
                let body = try BodyCipher.seal(content, groupKey: Fixture.groupKey, groupID: group,
                                               author: Fixture.alice.publicKey, seq: 7)
                #expect((body.count - BodyCipher.overheadBytes) % 32 == 0)
                let plain: [UInt8] = try content.serializedBytes()
                #expect(body.count - BodyCipher.overheadBytes > plain.count)
                let back = try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: group,
                                               author: Fixture.alice.publicKey, seq: 7)
                #expect(back == content)
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func wrongKeyOrAssociatedDataFails() throws {
        let author = Fixture.alice.publicKey
        let body = try BodyCipher.seal(Fixture.text("secret"), groupKey: Fixture.groupKey, groupID: group, author: author, seq: 3)
        let otherGroup = try EventID(bytes: [UInt8](repeating: 8, count: 32))
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: group, author: author, seq: 4)
        }
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: otherGroup, author: author, seq: 3)
        }
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: nil, author: author, seq: 3)
        }
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: group, author: Fixture.bob.publicKey, seq: 3)
        }
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(body, groupKey: [UInt8](repeating: 6, count: 32), groupID: group, author: author, seq: 3)
        }
        #expect(throws: EventError.bodyDecryptionFailed) {
            try BodyCipher.open(Array(body.prefix(30)), groupKey: Fixture.groupKey, groupID: group, author: author, seq: 3)
        }
        #expect(throws: EventError.invalidLength(field: "group key", expected: 32, actual: 16)) {
            try BodyCipher.open(body, groupKey: [UInt8](repeating: 6, count: 16), groupID: group, author: author, seq: 3)
        }
        #expect(try BodyCipher.open(body, groupKey: Fixture.groupKey, groupID: group, author: author, seq: 3).text.text == "secret")
    }

    @Test func openingAnEventUsesItsOwnContext() throws {
        let s = try Fixture.small()
        #expect(try BodyCipher.open(s.alice2, groupKey: Fixture.groupKey).text.text == "hello")
        #expect(try BodyCipher.open(s.genesis, groupKey: Fixture.groupKey).genesis.name == "lab")
        // Bob's body transplanted into an event at another position does not open.
        let moved = try Fixture.resigned(s.alice2, key: Fixture.alice, body: .some(s.bob1.body)) {
            $0.bodyHash = s.bob1.header.bodyHash
            $0.bodyLen = s.bob1.header.bodyLen
        }
        #expect(throws: EventError.bodyDecryptionFailed) { try BodyCipher.open(moved, groupKey: Fixture.groupKey) }
    }

    @Test func tooLargeContentIsRefused() {
        let big = Fixture.text(String(repeating: "x", count: EventLimits.maxBodyBytes))
        #expect(throws: EventError.self) {
            try BodyCipher.seal(big, groupKey: Fixture.groupKey, groupID: group, author: Fixture.alice.publicKey, seq: 1)
        }
    }

    @Test func newGroupKeysAreFreshAnd32Bytes() {
        let a = BodyCipher.newGroupKey(), b = BodyCipher.newGroupKey()
        #expect(a.count == 32 && b.count == 32 && a != b)
    }
}
