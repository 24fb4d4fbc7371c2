import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

/// Direct conversations (PROTOCOL.md §5.5): a group with roles of kind DIRECT with two members,
/// named `@PEER` on both sides. `hark send @bob hi` opens one (or reuses the one that exists)
/// and sends; bob's node accepts a direct invite by itself.
extension Node {
    /// The direct conversation with `key` this node holds, if any (the one with the smallest ID
    /// when both sides opened one at the same time).
    func directConversation(with key: SigningPublicKey) -> Store.GroupRecord? {
        let me = identity.signing.publicKey
        var found: [Store.GroupRecord] = []
        for g in (try? store.allGroups()) ?? [] {
            let index = membershipIndex(for: g.id)
            guard index.hasRoles, index.conversation == .direct, let graph = try? graph(for: g.id) else { continue }
            let members = currentMembership(in: graph, group: g.id).members
            if members.contains(key), members.contains(me) || key == me { found.append(g) }
        }
        return found.min { $0.id < $1.id }
    }

    /// Resolves `@PEER` to the direct conversation with that peer (not creating one).
    func resolveDirect(_ ref: String) throws(ControlErrorBody) -> Store.GroupRecord {
        let key = try resolvePeerKey(ref)
        guard let g = directConversation(with: key) else {
            throw ControlErrorBody(code: .notFound, message: "no direct conversation with \(ref) yet; `hark send \(ref) TEXT` starts one")
        }
        return g
    }

    /// The direct conversation with `ref`, created (with its invite sent over the channel) if
    /// there is none.
    func openDirect(_ ref: String) throws -> Store.GroupRecord {
        let key = try resolvePeerKey(ref)
        guard key != identity.signing.publicKey else {
            throw ControlErrorBody(code: .invalidArgument, message: "a direct conversation needs another peer")
        }
        if let g = directConversation(with: key) { return g }
        let pair = [identity.signing.publicKey.bytes, key.bytes].sorted { $0.lexicographicallyPrecedes($1) }
        let name = "direct-" + Hex.encode(Array(BLAKE2b.hash(pair[0] + pair[1] + SecureRandom.bytes(8), personal: "hark.direct.v1").prefix(6)))
        let view = try createGroup(name: name, kind: "direct")
        let g = try resolveGroup(view.id)
        let peerName = peerTable.info[PeerID(key)]?.displayName ?? ""
        try addMember(group: g.id.hex, key: key, displayName: peerName)
        // Handed over the channel now if the peer is connected, else when it connects.
        _ = try invite(group: g.id.hex, forPeer: PeerID(key).description, expiresMs: InviteLimits.maxExpiryMs, uses: 1)
        logger.info("direct conversation opened", metadata: ["group.id": "\(g.id)", "peer.id": "\(PeerID(key))"])
        return g
    }

    /// Hands the peer whose channel just opened an invite to every direct conversation this node
    /// opened with it that it has not joined yet (also after a restart: computed from the store).
    func offerDirectConversations(on session: PeerSession) {
        let peer = session.peerID.key
        for g in (try? store.allGroups()) ?? [] {
            let index = membershipIndex(for: g.id)
            guard index.hasRoles, index.conversation == .direct, let graph = try? graph(for: g.id),
                  graph.entry(g.id)?.author == identity.signing.publicKey,
                  currentMembership(in: graph, group: g.id).isMember(peer),
                  !graph.unorderedEntries.contains(where: { $0.author == peer && $0.kind == .join }),
                  let token = try? invite(group: g.id.hex, forPeer: PeerID(peer).description, expiresMs: InviteLimits.maxExpiryMs, uses: 1).token
            else { continue }
            _ = token   // `invite(…forPeer:)` hands it over the open channel itself
        }
    }

    /// A direct invite from the peer itself is accepted at once (it names this node alone).
    func acceptIfDirect(_ token: String, from session: PeerSession) -> Bool {
        guard let invite = try? InviteToken.decode(token), let genesis = try? Event(decoding: invite.genesis),
              genesis.author == session.peerID.key, [UInt8](invite.forKey) == identity.signing.publicKey.bytes,
              let c = try? BodyCipher.open(genesis, groupKey: [UInt8](invite.groupKey)), case let .genesis(g)? = c.content,
              g.conversation == .direct else { return false }
        if (try? store.group(id: genesis.id)) ?? nil != nil { return true }
        do { _ = try join(token: token) } catch {
            logger.info("direct invite not accepted", metadata: ["peer.id": "\(session.peerID)", "error": "\(error)"])
        }
        return true
    }
}
