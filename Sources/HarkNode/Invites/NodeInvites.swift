// Making invites (`group.invite`: version-1 and signed version-2 tokens, PROTOCOL.md §5.6) and
// the admin side of redeeming one (RedeemInvite → a MEMBER ADD and a RedeemAnswer). Node actor
// state (`inviteState.joinRequestBook`, `peerTable`); isolated to the actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import HarkWireProto
import Logging

/// The signed part of a version-2 invite (PROTOCOL.md §5.6):
/// `"hark-invite-v1" ‖ group ID (32) ‖ invite_id (16) ‖ LE64 expires_ms ‖ LE32 uses ‖ for_key (0 or 32)`.
enum InviteSignature {
    static func message(group: EventID, inviteID: [UInt8], expiresMs: Int64, uses: UInt32, forKey: [UInt8]) -> [UInt8] {
        var m = Array("hark-invite-v1".utf8) + group.bytes + inviteID
        withUnsafeBytes(of: UInt64(bitPattern: expiresMs).littleEndian) { m += $0 }
        withUnsafeBytes(of: uses.littleEndian) { m += $0 }
        return m + forKey
    }
}

/// Limits of invites.
enum InviteLimits {
    static let defaultExpiryMs: Int64 = 3_600_000
    static let maxExpiryMs: Int64 = 30 * 86_400_000
    static let maxUses: UInt32 = 1000
}

extension Node {
    /// `group.invite`: a token for the group. Open groups (rules 0) get a version-1 token; groups
    /// with roles get a version-2 token signed by this node, which must be an admin or the owner.
    /// With `forPeer`, a connected peer gets it over its channel too (`InviteOffer`), and a join
    /// request from that peer (PROTOCOL.md §5.7) is answered with it at once; `offer` false (an
    /// approved join request, which hands the token over itself) does neither.
    /// - Throws: `ControlErrorBody` `.invalidArgument` for limits, `.notFound` for an unknown peer.
    public func invite(group ref: String, forPeer: String? = nil, expiresMs: Int64? = nil, uses: UInt32? = nil,
                offer: Bool = true) throws(ControlErrorBody) -> InviteResult {
        try typedErrors("group.invite") {
            let g = try resolveGroup(ref)
            guard let genesis = try store.event(g.id) else {
                throw ControlErrorBody(code: .internal, message: "genesis event of \(g.name) is missing from the store")
            }
            var invite = Hark_V1_Invite()
            invite.version = 1
            invite.groupKey = Data(g.key)
            invite.genesis = genesis.signedEvent
            invite.inviter = Data(identity.signing.publicKey.bytes)
            invite.hints = listenHints()
            var target: SigningPublicKey?
            if let forPeer { target = try resolvePeerKey(forPeer) }
            if let membership = currentMembership(of: g.id) {
                guard (membership.role(of: identity.signing.publicKey) ?? .member) >= .admin else {
                    throw ControlErrorBody(code: .invalidArgument, message: "only admins and the owner of \(g.name) can invite")
                }
                let expiry = expiresMs ?? InviteLimits.defaultExpiryMs
                guard expiry >= 1_000, expiry <= InviteLimits.maxExpiryMs else {
                    throw ControlErrorBody(code: .invalidArgument, message: "--expires must be 1 s to 30 days")
                }
                let n = uses ?? 1
                guard n >= 1, n <= InviteLimits.maxUses else {
                    throw ControlErrorBody(code: .invalidArgument, message: "--uses must be 1 to \(InviteLimits.maxUses)")
                }
                invite.version = 2
                invite.inviteID = Data(SecureRandom.bytes(16))
                invite.expiresMs = clock.wallMs() + expiry
                invite.uses = n
                if let target { invite.forKey = Data(target.bytes) }
                invite.inviterSig = Data(identity.signing.signature(for: InviteSignature.message(
                    group: g.id, inviteID: [UInt8](invite.inviteID), expiresMs: invite.expiresMs, uses: n, forKey: [UInt8](invite.forKey))))
            } else if forPeer != nil || expiresMs != nil || uses != nil {
                throw ControlErrorBody(code: .invalidArgument,
                                       message: "\(g.name) is an open group (made before roles): its invites cannot be limited; create a new group")
            }
            let token = try InviteToken.encode(invite)
            guard offer else { return InviteResult(token: token) }
            if let target, invite.version == 2 {
                inviteState.joinRequestBook.remember(.init(group: g.id, peer: target, token: token, expiresMs: invite.expiresMs))
            }
            // A peer connected now gets the invite over its channel too (`hark group accept`).
            if let target {
                var offer = Hark_V1_InviteOffer()
                offer.token = token
                offer.groupName = g.name
                var frame = Hark_V1_Frame()
                frame.inviteOffer = offer
                for s in peerTable.sessions where s.peerID.key == target { s.send(frame) }
            }
            return InviteResult(token: token)
        }
    }

    /// "host:port" for each address this node may be reached at (hints in invites).
    func listenHints() -> [String] {
        peerTable.sessions.compactMap { s -> String? in
            guard let local = s.localSocketAddress, let ip = local.ipAddress else { return nil }
            let plain = ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip
            return plain.contains(":") ? "[\(plain)]:\(lifecycle.listenPort)" : "\(plain):\(lifecycle.listenPort)"
        }.uniquedHints()
    }

    /// A peer's identity key from `@NAME`, a display name, a fingerprint prefix, or a peer ID
    /// (`hk…`, also of a peer never seen).
    /// - Throws: `.notFound`, or `.ambiguous` listing the candidates with fingerprints.
    func resolvePeerKey(_ ref: String) throws(ControlErrorBody) -> SigningPublicKey {
        let r = ref.hasPrefix("@") ? String(ref.dropFirst()) : ref
        if let id = try? PeerID(parsing: r.lowercased()) { return id.key }
        // This node itself, by its own name or fingerprint (it is not among the known peers).
        let me = identity.signing.publicKey
        let hex = r.lowercased().replacingOccurrences(of: "-", with: "")
        if r == identity.displayName
            || (hex.count >= 4 && hex.allSatisfy(\.isHexDigit) && peerID.fingerprint.replacingOccurrences(of: "-", with: "").hasPrefix(hex)) {
            if (try? resolvePeer(r)) == nil { return me }
        }
        return try resolvePeer(r).id.key
    }

    // MARK: redeeming (admin side)

    /// A peer asks to be added with an invite. Any admin holding the group decides; others say
    /// they cannot.
    func receiveRedeemInvite(_ r: Hark_V1_RedeemInvite, from session: PeerSession) throws {
        func answer(_ accepted: Bool, final: Bool, _ reason: String) {
            if !accepted {
                logger.info("invite redeem refused", metadata: [
                    "group.id": "\(Hex.encode([UInt8](r.groupID.prefix(32))))", "peer.id": "\(session.peerID)", "reason": "\(reason)",
                ])
            }
            var a = Hark_V1_RedeemAnswer()
            a.groupID = r.groupID
            a.inviteID = r.inviteID
            a.accepted = accepted
            a.final = final
            a.reason = reason
            var frame = Hark_V1_Frame()
            frame.redeemAnswer = a
            session.send(frame)
        }
        guard let group = try? EventID(bytes: [UInt8](r.groupID)), r.inviteID.count == 16,
              let g = try store.group(id: group), let membership = currentMembership(of: group) else {
            return answer(false, final: false, "this node cannot redeem that invite")
        }
        let peer = session.peerID.key
        guard (membership.role(of: identity.signing.publicKey) ?? .member) >= .admin else {
            return answer(false, final: false, "this node is not an admin of the group")
        }
        if membership.isMember(peer) { return answer(true, final: true, "already a member") }
        guard let inviter = try? SigningPublicKey(bytes: [UInt8](r.inviter)),
              inviter.isValidSignature([UInt8](r.inviterSig), for: InviteSignature.message(
                group: group, inviteID: [UInt8](r.inviteID), expiresMs: r.expiresMs, uses: r.uses, forKey: [UInt8](r.forKey))),
              r.uses >= 1, r.forKey.isEmpty || r.forKey.count == 32
        else { return answer(false, final: true, "the invite's signature does not verify") }
        guard (membership.role(of: inviter) ?? .member) >= .admin else {
            return answer(false, final: true, "the inviter is no longer an admin of \(g.name)")
        }
        guard r.forKey.isEmpty || [UInt8](r.forKey) == peer.bytes else {
            return answer(false, final: true, "this invite is for another peer")
        }
        guard clock.wallMs() <= r.expiresMs else {
            return answer(false, final: true, "this invite expired at \(Self.isoTime(r.expiresMs)); ask for a new one")
        }
        guard membership.inviteUses[[UInt8](r.inviteID), default: 0] < Int(r.uses) else {
            return answer(false, final: true, "this invite was already used \(r.uses == 1 ? "" : "\(r.uses) times ")and cannot be used again; ask for a new one")
        }
        var c = Hark_V1_Content()
        var m = Hark_V1_Member()
        m.action = .add
        m.target = Data(peer.bytes)
        m.role = .member
        m.inviteID = r.inviteID
        m.inviteUses = r.uses
        m.displayName = String(r.displayName.prefix(64))
        if r.prekey.count == 32 { m.prekey = r.prekey }
        c.member = m
        let add = try author(kind: .member, content: c, group: g)
        watchRedeemedAdd(add.id, RedeemedAdd(group: group, peer: session.peerID, inviteID: [UInt8](r.inviteID), uses: Int(r.uses),
                                             writtenMs: clock.wallMs(), lostReason: nil))
        logger.info("invite redeemed; member added (unless another admin used the invite at the same time)", metadata: [
            "group.id": "\(group)", "peer.id": "\(session.peerID)", "add": "\(add.id)",
        ])
        answer(true, final: true, "added")
    }
}

extension Array where Element == String {
    func uniquedHints() -> [String] { var seen = Set<String>(); return filter { seen.insert($0).inserted }.prefix(8).map { $0 } }
}
