import Foundation
import HarkControl
import HarkCrypto
@testable import HarkNode
import Testing

/// Name resolution with several keys under one display name (docs/SECURITY.md "Names"), on a
/// real node with a real store.
@Suite struct PeerNamesNodeTests {
    func key(_ b: UInt8) -> SigningPublicKey { try! SigningKeyPair(seed: [UInt8](repeating: b, count: 32)).publicKey }

    /// Records `keys` as seen with the display name "bob", in order.
    func seeBobs(_ n: RunningNode, _ keys: [SigningPublicKey]) async throws {
        for (i, k) in keys.enumerated() {
            try n.node.store.upsertPeer(key: k, displayName: "bob", address: nil, seenMs: Int64(i + 1))
            try n.node.store.recordNameUse(key: k, displayName: "bob", seenMs: Int64(i + 1))
        }
        await n.node.forgetTrustCache()
    }

    func resolve(_ n: RunningNode, _ ref: String) async -> Result<PeerID, ControlErrorBody> {
        do { return .success(try await n.node.resolvePeer(ref).id) } catch { return .failure(error) }
    }

    @Test func aVerifiedKeyWinsItsNameAndUnverifiedOnesStayAmbiguous() async throws {
        let a = try await RunningNode.start("alice")
        try await withNodes([a]) {
            let bob = key(1), eve = key(2)
            try await seeBobs(a, [bob, eve])
            guard case let .failure(e) = await resolve(a, "bob") else { Issue.record("two unverified bobs resolved"); return }
            #expect(e.code == .ambiguous)
            try a.node.store.setVerified(key: bob, atMs: 5)
            await a.node.forgetTrustCache()
            #expect(try await resolve(a, "bob").get() == PeerID(bob))
            #expect(await a.node.trustWarning(for: eve) != nil)   // the impostor is still flagged
            #expect(try await resolve(a, String(PeerID(eve).fingerprint.prefix(9))).get() == PeerID(eve))
        }
    }

    @Test func anAliasWinsAndABlockedKeyIsSkipped() async throws {
        let a = try await RunningNode.start("alice")
        try await withNodes([a]) {
            let bob = key(1), eve = key(2)
            try await seeBobs(a, [bob, eve])
            let v = try await a.node.setPeerAlias(peer: PeerID(eve).description, alias: "eve")
            #expect(v.alias == "eve")
            #expect(try await resolve(a, "eve").get() == PeerID(eve))
            #expect(try await resolve(a, "@eve").get() == PeerID(eve))
            _ = try await a.node.setPeerBlocked(peer: "eve", blocked: true)
            #expect(try await resolve(a, "bob").get() == PeerID(bob))   // the blocked key is left out
            #expect(await a.node.peers().contains { $0.peerId == PeerID(eve).description && $0.blocked })
            do { _ = try await a.node.setPeerAlias(peer: "bob", alias: "3f2a-91c0"); Issue.record("a hex alias was accepted") }
            catch let e as ControlErrorBody { #expect(e.code == .invalidArgument) } catch { Issue.record("\(error)") }
            let forgotten = try await a.node.forgetPeer(peer: "eve")
            #expect(forgotten.peerId == PeerID(eve).description)
            guard case let .failure(e) = await resolve(a, PeerID(eve).description) else { Issue.record("forgotten key resolved"); return }
            #expect(e.code == .notFound)
        }
    }
}
