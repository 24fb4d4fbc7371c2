import Foundation
import HarkCrypto
@testable import HarkStore
import Testing

/// The user's own decisions about keys: aliases, blocks, forgetting (Store+PeerLocal.swift).
@Suite struct PeerLocalStoreTests {
    let dir: TempDir
    let store: Store
    init() throws {
        dir = try TempDir()
        store = try Store(path: dir.dbPath)
    }

    func key(_ b: UInt8) -> SigningPublicKey { try! SigningKeyPair(seed: [UInt8](repeating: b, count: 32)).publicKey }

    @Test func anAliasNamesOneKeyAndMovesWhenGivenToAnother() throws {
        let bob = key(1), eve = key(2)
        try store.setAlias(key: bob, alias: "Rob")
        #expect(try store.peerLocal() == [bob: .init(alias: "Rob")])
        try store.setAlias(key: eve, alias: "rob ")   // the same alias by nameKey: it moves to eve
        #expect(try store.peerLocal() == [eve: .init(alias: "rob ")])
        try store.setAlias(key: eve, alias: nil)
        #expect(try store.peerLocal().isEmpty)   // no alias and no block: no row left
    }

    @Test func blockingKeepsTheAliasAndUnblockingKeepsIt() throws {
        let eve = key(2)
        try store.setAlias(key: eve, alias: "eve")
        try store.setBlocked(key: eve, atMs: 50)
        #expect(try store.peerLocal() == [eve: .init(alias: "eve", blockedMs: 50)])
        try store.setBlocked(key: eve, atMs: nil)
        #expect(try store.peerLocal() == [eve: .init(alias: "eve")])
    }

    @Test func forgettingDropsTheContactButNotOtherKeys() throws {
        let bob = key(1), eve = key(2)
        for (k, t) in [(bob, Int64(1)), (eve, Int64(2))] {
            try store.upsertPeer(key: k, displayName: "bob", address: "10.0.0.\(t):7411", seenMs: t)
            try store.recordNameUse(key: k, displayName: "bob", seenMs: t)
        }
        try store.setVerified(key: bob, atMs: 3)
        try store.setBlocked(key: eve, atMs: 4)
        #expect(try store.trustWarnings().map(\.peer) == [eve])
        #expect(try store.forgetPeer(key: eve))
        #expect(try store.trustWarnings().isEmpty)
        #expect(try store.peers().map(\.key) == [bob])
        #expect(try store.peerLocal().isEmpty)
        #expect(try store.verifiedPeers() == [bob: 3])
        #expect(!(try store.forgetPeer(key: eve)))   // nothing left to forget
        // eve comes back: a first sighting again, and still warned about (the name is bound to bob)
        try store.upsertPeer(key: eve, displayName: "bob", address: nil, seenMs: 9)
        #expect(try store.recordNameUse(key: eve, displayName: "bob", seenMs: 9) == [bob])
    }
}
