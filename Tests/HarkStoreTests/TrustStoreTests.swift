import Foundation
import HarkCrypto
@testable import HarkStore
import Testing

@Suite struct TrustStoreTests {
    let dir: TempDir
    let store: Store
    init() throws {
        dir = try TempDir()
        store = try Store(path: dir.dbPath)
    }

    func key(_ b: UInt8) -> SigningPublicKey { try! SigningKeyPair(seed: [UInt8](repeating: b, count: 32)).publicKey }

    @Test func firstUseBindsTheNameAndANewKeyRaisesAWarning() throws {
        let bob = key(1), eve = key(2)
        try store.upsertPeer(key: bob, displayName: "bob", address: nil, seenMs: 10)
        #expect(try store.recordNameUse(key: bob, displayName: "bob", seenMs: 10) == [])
        #expect(try store.recordNameUse(key: bob, displayName: "bob", seenMs: 11) == [])   // again: nothing new
        try store.upsertPeer(key: eve, displayName: "Bob ", address: nil, seenMs: 20)
        #expect(try store.recordNameUse(key: eve, displayName: "Bob ", seenMs: 20) == [bob])   // case and spaces folded
        #expect(try store.recordNameUse(key: eve, displayName: "Bob ", seenMs: 21) == [])     // raised once
        let w = try store.trustWarnings()
        #expect(w.count == 1 && w[0].peer == eve && w[0].other == bob && w[0].displayName == "Bob ")
        #expect(try store.verifiedPeers().isEmpty)
    }

    @Test func verifyingAKeyClearsItsWarningsAndIsBoundToTheKey() throws {
        let bob = key(1), eve = key(2)
        for (k, t) in [(bob, Int64(1)), (eve, Int64(2))] {
            try store.upsertPeer(key: k, displayName: "bob", address: nil, seenMs: t)
            try store.recordNameUse(key: k, displayName: "bob", seenMs: t)
        }
        #expect(try store.setVerified(key: bob, atMs: 5))
        #expect(try store.verifiedPeers() == [bob: 5])
        #expect(try store.trustWarnings().map(\.peer) == [eve])   // verifying bob says nothing about eve
        #expect(try store.setVerified(key: eve, atMs: 6))
        #expect(try store.trustWarnings().isEmpty)
        #expect(!(try store.setVerified(key: key(9), atMs: 7)))   // unknown peer
    }
}
