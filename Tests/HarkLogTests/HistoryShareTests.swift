import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// Shared history (PROTOCOL.md §5.8): sealing past chains to a newcomer's prekey, the bound per
/// event, and the validation rules of HISTORY_KEY.
@Suite struct HistoryShareTests {
    let alice = Fixture.alice, bob = Fixture.bob, carol = Fixture.carol

    func chains(_ n: Int, author: SigningPublicKey = Fixture.bob.publicKey) -> [HistoryShare.Chain] {
        (0..<n).map { i in HistoryShare.Chain(author: author, epoch: UInt32(i + 1), index: UInt32(i % 7), chainKey: SecureRandom.bytes(32)) }
    }

    @Test func sealedChainsOpenOnlyWithTheRecipientsPrekey() throws {
        let prekey = AgreementKeyPair.generate()
        let given = chains(3)
        let parts = try HistoryShare.seal(given, recipient: carol.publicKey, prekey: prekey.publicKey)
        #expect(parts.count == 1)
        #expect([UInt8](parts[0].recipient) == carol.publicKey.bytes && [UInt8](parts[0].prekey) == prekey.publicKey)
        #expect(try HistoryShare.open(parts[0], keyPair: prekey) == given)
        #expect(throws: CryptoError.self) { try HistoryShare.open(parts[0], keyPair: AgreementKeyPair.generate()) }
        var changed = parts[0]
        changed.sealed[60] ^= 1
        #expect(throws: CryptoError.self) { try HistoryShare.open(changed, keyPair: prekey) }
        #expect(try HistoryShare.seal([], recipient: carol.publicKey, prekey: prekey.publicKey).isEmpty)
    }

    /// A chain shared at index k gives the newcomer the same message keys the author used from k on.
    @Test func aSharedChainKeyDerivesTheAuthorsLaterMessageKeys() throws {
        // The author's chain and the keys it used for messages 0…9.
        let ck0 = SecureRandom.bytes(32)
        var author = SenderChain(chainKey: ck0)
        var keys: [[UInt8]] = []
        for _ in 0..<10 { keys.append(author.nextMessageKey().key) }
        // A sharer whose earliest key of the chain is at index 4.
        var sharer = SenderChain(chainKey: ck0)
        for _ in 0..<4 { _ = sharer.nextMessageKey() }
        let shared = HistoryShare.Chain(author: bob.publicKey, epoch: 1, index: sharer.nextIndex, chainKey: sharer.chainKey)
        let prekey = AgreementKeyPair.generate()
        let opened = try HistoryShare.open(try HistoryShare.seal([shared], recipient: carol.publicKey, prekey: prekey.publicKey)[0], keyPair: prekey)
        var reader = SenderChain(chainKey: opened[0].chainKey, nextIndex: opened[0].index)
        for i in [9, 4, 6, 5, 7, 8] { #expect(reader.messageKey(at: UInt32(i)) == keys[i], "message \(i)") }
        #expect(reader.messageKey(at: 2) == nil, "keys before the shared index are not derivable")
    }

    /// The bound: at most 512 chains per event, each event's body under the group key below 64 KiB.
    @Test func manyChainsAreSplitIntoBoundedEvents() throws {
        let prekey = AgreementKeyPair.generate()
        let given = chains(1_300)
        let parts = try HistoryShare.seal(given, recipient: carol.publicKey, prekey: prekey.publicKey)
        #expect(parts.count == 3)
        var back: [HistoryShare.Chain] = []
        for p in parts {
            try HistoryShare.checkStructure(p)
            #expect(p.sealed.count <= HistoryShare.maxSealedBytes)
            var c = Hark_V1_Content()
            c.historyKey = p
            let body = try BodyCipher.seal(c, groupKey: Fixture.groupKey, groupID: EventID(bytes: [UInt8](repeating: 1, count: 32)),
                                           author: alice.publicKey, seq: 9)
            #expect(body.count <= EventLimits.maxBodyBytes)
            back += try HistoryShare.open(p, keyPair: prekey)
        }
        #expect(back == given)
        // Worst case per entry: large epoch and index numbers still fit the sealed bound.
        let wide = (0..<HistoryShare.maxChainsPerEvent).map { _ in
            HistoryShare.Chain(author: bob.publicKey, epoch: .max, index: .max, chainKey: SecureRandom.bytes(32))
        }
        let one = try HistoryShare.seal(wide, recipient: carol.publicKey, prekey: prekey.publicKey)
        #expect(one.count == 1)
        #expect(throws: Never.self) { try HistoryShare.checkStructure(one[0]) }
    }

    @Test func malformedEntriesAreSkippedAndMalformedSharesRefused() throws {
        let prekey = AgreementKeyPair.generate()
        var list = Hark_V1_HistoryChains()
        var good = Hark_V1_HistoryChain()
        good.author = Data(bob.publicKey.bytes); good.epoch = 2; good.index = 0; good.chainKey = Data(SecureRandom.bytes(32))
        var shortKey = good; shortKey.chainKey = Data([1, 2, 3])
        var epochZero = good; epochZero.epoch = 0
        var badAuthor = good; badAuthor.author = Data([9])
        list.chains = [shortKey, good, epochZero, badAuthor]
        var hk = Hark_V1_HistoryKey()
        hk.recipient = Data(carol.publicKey.bytes)
        hk.prekey = Data(prekey.publicKey)
        hk.sealed = Data(try SealedBox.seal(try list.serializedBytes(), to: prekey.publicKey))
        let opened = try HistoryShare.open(hk, keyPair: prekey)
        #expect(opened.count == 1 && opened[0].epoch == 2)

        var short = hk; short.recipient = Data([1])
        #expect(throws: EventError.self) { try HistoryShare.checkStructure(short) }
        var tiny = hk; tiny.sealed = Data(repeating: 0, count: 48)
        #expect(throws: EventError.self) { try HistoryShare.checkStructure(tiny) }
        var huge = hk; huge.sealed = Data(repeating: 0, count: HistoryShare.maxSealedBytes + 1)
        #expect(throws: EventError.self) { try HistoryShare.checkStructure(huge) }
        #expect(throws: EventError.self) {
            try HistoryShare.seal([HistoryShare.Chain(author: bob.publicKey, epoch: 0, index: 0, chainKey: SecureRandom.bytes(32))],
                                  recipient: carol.publicKey, prekey: prekey.publicKey)
        }
    }

    func share(to target: SigningKeyPair) throws -> Hark_V1_Content {
        let parts = try HistoryShare.seal(chains(2), recipient: target.publicKey, prekey: AgreementKeyPair.generate().publicKey)
        var c = Hark_V1_Content()
        c.historyKey = parts[0]
        return c
    }

    @Test func anAdminSharesHistoryInASharedHistoryGroup() throws {
        let w = try RolesWorld(history: .shared)
        try w.write(.member, w.member(.add, bob, role: .admin), by: alice)
        try w.write(.member, w.member(.add, carol), by: bob)
        try w.write(.historyKey, share(to: carol), by: bob)
        try w.write(.historyKey, share(to: carol), by: alice)
    }

    @Test func aMemberWhoIsNotAnAdminCannotShareHistory() throws {
        let w = try RolesWorld(history: .shared)
        try w.write(.member, w.member(.add, bob), by: alice)
        try w.write(.member, w.member(.add, carol), by: alice)
        #expect(throws: EventError.notAuthorized("only admins share history keys")) { try w.write(.historyKey, share(to: carol), by: bob) }
    }

    @Test func aJoinedHistoryGroupRefusesHistoryKeys() throws {
        let w = try RolesWorld(history: .joined)
        try w.write(.member, w.member(.add, carol), by: alice)
        #expect(throws: EventError.notAuthorized("history keys exist only in groups with shared history")) {
            try w.write(.historyKey, share(to: carol), by: alice)
        }
    }

    @Test func aHistoryKeyWithoutABodyOrWithBadSizesIsRefused() throws {
        let w = try RolesWorld(history: .shared)
        try w.write(.member, w.member(.add, carol), by: alice)
        let e = try EventAuthor.make(kind: .historyKey, groupID: w.genesis.id, author: alice, seq: 3, selfParent: w.latest[alice.publicKey],
                                     parents: [], wallMs: 3_000, body: nil)
        #expect(throws: EventError.missingBody) { try w.deliver(e) }
        var c = try share(to: carol)
        c.historyKey.prekey = Data([1, 2])
        #expect(throws: EventError.invalidLength(field: "history_key.prekey", expected: 32, actual: 2)) {
            try w.write(.historyKey, c, by: alice)
        }
    }
}
