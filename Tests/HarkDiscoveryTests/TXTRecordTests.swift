import Testing
@testable import HarkDiscovery

@Suite struct TXTRecordTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func encodesInOrder() throws {
        let txt = TXTRecord.hark(token: "0011223344556677", displayName: "Alice")
        #expect(try txt.encodedStrings() == ["v=1", "tok=0011223344556677", "name=Alice"])
        #expect(txt[TXTRecord.Key.token] == "0011223344556677")
    }

    @Test func roundTrip() throws {
        let txt = TXTRecord([("v", "1"), ("tok", "abcdef0123456789"), ("name", "Zoë 👋"), ("empty", "")])
        let wire = try txt.encodedStrings().map { Array($0.utf8) }
        #expect(TXTRecord.parse(wire) == txt)
    }

    @Test func parsesValid() {
        let t = TXTRecord.parse([bytes("v=1"), bytes("tok=00ff00ff00ff00ff"), bytes("name=Bob")])
        #expect(t.entries.map(\.key) == ["v", "tok", "name"])
        #expect(t["name"] == "Bob")
    }

    @Test func keysAreCaseInsensitive() {
        let t = TXTRecord.parse([bytes("NaMe=Carol")])
        #expect(t["name"] == "Carol")
        #expect(t["NAME"] == "Carol")
        #expect(t == TXTRecord([("name", "Carol")]))
    }

    @Test func skipsMalformed() {
        let t = TXTRecord.parse([
            bytes("noequals"),             // boolean attribute: not represented
            bytes("=value"),               // empty key
            [],                            // empty string
            [0x01, 0x3d, 0x41],            // control char in key
            [0xc3, 0xa9, 0x3d, 0x41],      // non-ASCII key "é=A"
            bytes("bad=") + [0xff, 0xfe],  // value not UTF-8
            [UInt8](repeating: 0x61, count: 300) + bytes("=x"),   // longer than 255 bytes
            bytes("ok=1"),
        ])
        #expect(t.entries == [TXTRecord.Entry(key: "ok", value: "1")])
    }

    @Test func valueMayContainEquals() {
        let t = TXTRecord.parse([bytes("k=a=b==")])
        #expect(t["k"] == "a=b==")
    }

    @Test func duplicateKeysFirstWins() {
        let t = TXTRecord.parse([bytes("tok=first"), bytes("TOK=second"), bytes("tok=third")])
        #expect(t["tok"] == "first")
        #expect(t.entries.count == 1)
        #expect(TXTRecord([("a", "1"), ("A", "2")])["a"] == "1")
    }

    @Test func binaryGarbageNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let strings = (0..<Int.random(in: 0...8, using: &rng)).map { _ in
                (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            let t = TXTRecord.parse(strings)
            for e in t.entries { #expect(TXTRecord.isValidKey(e.key)) }
        }
    }

    @Test func entryLimitIs255Bytes() throws {
        let ok = TXTRecord([("k", String(repeating: "x", count: 253))])      // "k=" + 253 = 255
        #expect(try ok.encodedStrings()[0].utf8.count == 255)
        let tooLong = TXTRecord([("k", String(repeating: "x", count: 254))])
        #expect(throws: TXTRecordError.entryTooLong(key: "k", bytes: 256)) { try tooLong.encodedStrings() }
        let longKey = String(repeating: "k", count: 255)
        #expect(throws: TXTRecordError.entryTooLong(key: longKey, bytes: 256)) {
            try TXTRecord([(longKey, "")]).encodedStrings()
        }
        // exactly 255 bytes parse; 256 don't
        #expect(TXTRecord.parse([bytes("k=" + String(repeating: "y", count: 253))])["k"]?.utf8.count == 253)
        #expect(TXTRecord.parse([bytes("k=" + String(repeating: "y", count: 254))]).entries.isEmpty)
    }

    @Test func invalidKeysThrow() {
        #expect(throws: TXTRecordError.invalidKey("")) { try TXTRecord([("", "x")]).encodedStrings() }
        #expect(throws: TXTRecordError.invalidKey("a=b")) { try TXTRecord([("a=b", "x")]).encodedStrings() }
        #expect(throws: TXTRecordError.invalidKey("tab\t")) { try TXTRecord([("tab\t", "x")]).encodedStrings() }
        #expect(throws: TXTRecordError.invalidKey("ключ")) { try TXTRecord([("ключ", "x")]).encodedStrings() }
    }

    @Test func subscriptSetAndRemove() {
        var t = TXTRecord()
        t["V"] = "1"
        t["name"] = "a"
        t["v"] = "2"
        #expect(t.entries == [.init(key: "v", value: "2"), .init(key: "name", value: "a")])
        t["v"] = nil
        #expect(t.entries == [.init(key: "name", value: "a")])
    }

    @Test func displayNameIsCutTo64Bytes() {
        let t = TXTRecord.hark(token: "00", displayName: String(repeating: "é", count: 40))   // 80 bytes
        #expect(t["name"]!.utf8.count == 64)
    }
}

@Suite struct InstanceNameTests {
    @Test func shortNamesUnchanged() {
        #expect(ServiceAdvert.truncatedInstanceName("hark alice") == "hark alice")
        let exactly63 = String(repeating: "a", count: 63)
        #expect(ServiceAdvert.truncatedInstanceName(exactly63) == exactly63)
    }

    @Test func cutAt63BytesOnUTF8Boundary() {
        // "é" is 2 bytes: 31 of them = 62 bytes fit, the 32nd would make 64
        let s = String(repeating: "é", count: 40)
        let t = ServiceAdvert.truncatedInstanceName(s)
        #expect(t.utf8.count == 62)
        #expect(t == String(repeating: "é", count: 31))
        // 4-byte scalars: 15 fit (60 bytes)
        let emoji = ServiceAdvert.truncatedInstanceName("a" + String(repeating: "😀", count: 20))
        #expect(emoji.utf8.count == 61)
        #expect(String(validating: Array(emoji.utf8), as: UTF8.self) == emoji)
    }

    @Test func graphemeLongerThanLimitFallsBackToScalars() {
        let zalgo = "a" + String(repeating: "\u{0301}", count: 60)   // one grapheme, 121 bytes
        let t = ServiceAdvert.truncatedInstanceName(zalgo)
        #expect(t.utf8.count <= 63 && !t.isEmpty)
        #expect(t.utf8.count == 63)                                   // 1 + 31 × 2
    }

    @Test func advertInitTruncates() {
        let a = ServiceAdvert(instanceName: String(repeating: "x", count: 100), port: 1, txt: TXTRecord())
        #expect(a.instanceName.utf8.count == 63)
    }

    @Test func alternativeNames() {
        #expect(alternativeServiceName("hark") == "hark #2")
        #expect(alternativeServiceName("hark #2") == "hark #3")
        #expect(alternativeServiceName(String(repeating: "x", count: 63)).utf8.count <= 63)
    }
}
