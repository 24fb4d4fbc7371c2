import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkProto
import HarkStore
import Logging

/// The signed part of a version-2 invite (PROTOCOL.md §9.6):
/// `"hark-invite-v1" ‖ group ID (32) ‖ invite_id (16) ‖ LE64 expires_ms ‖ LE32 uses ‖ for_key (0 or 32)`.
enum InviteSignature {
    static func message(group: EventID, inviteID: [UInt8], expiresMs: Int64, uses: UInt32, forKey: [UInt8]) -> [UInt8] {
        var m = Array("hark-invite-v1".utf8) + group.bytes + inviteID
        withUnsafeBytes(of: UInt64(bitPattern: expiresMs).littleEndian) { m += $0 }
        withUnsafeBytes(of: uses.littleEndian) { m += $0 }
        return m + forKey
    }
}

/// A join in progress: the invite is being redeemed with an admin (PROTOCOL.md §9.6).
struct PendingJoin: Sendable {
    let invite: Hark_V1_Invite
    let genesis: Event
    let name: String
    /// The admin whose acceptance was taken.
    var acceptedBy: PeerID?
    var state: String            // "pending", "member" (an admin accepted), "refused", "lost"
    var reason: String?
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
    /// request from that peer (PROTOCOL.md §9.7) is answered with it at once; `offer` false (an
    /// approved join request, which hands the token over itself) does neither.
    /// - Throws: `ControlErrorBody` `.invalidArgument` for limits, `.notFound` for an unknown peer.
    func invite(group ref: String, forPeer: String? = nil, expiresMs: Int64? = nil, uses: UInt32? = nil,
                offer: Bool = true) throws -> InviteResult {
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
            invite.expiresMs = Node.nowMs() + expiry
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
            joinRequestBook.remember(.init(group: g.id, peer: target, token: token, expiresMs: invite.expiresMs))
        }
        // A peer connected now gets the invite over its channel too (`hark group accept`).
        if let target {
            var offer = Hark_V1_InviteOffer()
            offer.token = token
            offer.groupName = g.name
            var frame = Hark_V1_Frame()
            frame.inviteOffer = offer
            for s in sessions.values where s.peerID.key == target { s.send(frame) }
        }
        return InviteResult(token: token)
    }

    /// "host:port" for each address this node may be reached at (hints in invites).
    func listenHints() -> [String] {
        sessions.values.compactMap { s -> String? in
            guard let local = s.localSocketAddress, let ip = local.ipAddress else { return nil }
            let plain = ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip
            return plain.contains(":") ? "[\(plain)]:\(listenPort)" : "\(plain):\(listenPort)"
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

    // MARK: redeeming (joiner side)

    /// Starts redeeming a version-2 invite: checked here first, then sent to every connected peer
    /// (an admin answers) and to the inviter's hints.
    func startRedeeming(_ invite: Hark_V1_Invite, genesis: Event, name: String) throws -> GroupView {
        let me = identity.signing.publicKey
        guard let inviter = try? SigningPublicKey(bytes: [UInt8](invite.inviter)),
              invite.inviteID.count == 16, invite.uses >= 1, invite.forKey.isEmpty || invite.forKey.count == 32,
              inviter.isValidSignature([UInt8](invite.inviterSig), for: InviteSignature.message(
                group: genesis.id, inviteID: [UInt8](invite.inviteID), expiresMs: invite.expiresMs, uses: invite.uses,
                forKey: [UInt8](invite.forKey)))
        else { throw ControlErrorBody(code: .invalidToken, message: "invite token is damaged: its signature does not verify") }
        if !invite.forKey.isEmpty, [UInt8](invite.forKey) != me.bytes {
            throw ControlErrorBody(code: .invalidToken, message: "this invite is for another peer (\(PeerID(try! SigningPublicKey(bytes: [UInt8](invite.forKey))).fingerprint))")
        }
        if Node.nowMs() > invite.expiresMs {
            throw ControlErrorBody(code: .invalidToken, message: "this invite expired at \(Self.isoTime(invite.expiresMs)); ask for a new one")
        }
        pendingJoins[genesis.id] = PendingJoin(invite: invite, genesis: genesis, name: name, state: "pending", reason: nil)
        for s in sessions.values { sendRedeem(genesis.id, to: s) }
        for hint in invite.hints.prefix(8) {
            guard let address = Self.resolve(hint) else { continue }
            Task { await self.dial(address, label: hint, source: "invite") }
        }
        return GroupView(id: genesis.id.hex, name: name, events: 0, members: [], createdMs: genesis.wallMs, state: "pending")
    }

    func sendRedeem(_ group: EventID, to session: PeerSession) {
        guard let p = pendingJoins[group], p.state == "pending" else { return }
        var r = Hark_V1_RedeemInvite()
        r.groupID = Data(group.bytes)
        r.inviteID = p.invite.inviteID
        r.expiresMs = p.invite.expiresMs
        r.uses = p.invite.uses
        r.forKey = p.invite.forKey
        r.inviter = p.invite.inviter
        r.inviterSig = p.invite.inviterSig
        r.displayName = identity.displayName
        r.prekey = Data(prekey.publicKey)
        var frame = Hark_V1_Frame()
        frame.redeemInvite = r
        session.send(frame)
    }

    /// An admin's answer to our redemption. After an acceptance, a refusal from the admin that
    /// accepted means its ADD lost to another admin's ADD of the same invite (it is believed
    /// only while our own fold does not show this node as a member).
    func receiveRedeemAnswer(_ a: Hark_V1_RedeemAnswer, from session: PeerSession) throws {
        guard let group = try? EventID(bytes: [UInt8](a.groupID)), var p = pendingJoins[group],
              [UInt8](a.inviteID) == [UInt8](p.invite.inviteID), a.final else { return }
        if p.state == "member", !a.accepted, p.acceptedBy == session.peerID,
           !(currentMembership(of: group)?.isMember(identity.signing.publicKey) ?? false) {
            p.state = "lost"
            p.reason = String(a.reason.prefix(200))
            pendingJoins[group] = p
            logger.warning("invite accepted, then lost: another admin gave its last use to another peer", metadata: [
                "group.id": "\(group)", "admin": "\(session.peerID)", "reason": "\(p.reason ?? "")",
            ])
            return
        }
        guard p.state == "pending" else { return }
        if a.accepted {
            p.state = "member"
            p.acceptedBy = session.peerID
            pendingJoins[group] = p
            let record = Store.GroupRecord(id: group, name: p.name, key: [UInt8](p.invite.groupKey), createdMs: p.genesis.wallMs,
                                           joinedMs: Node.nowMs())
            try store.saveGroup(record)
            try persist(p.genesis)
            logger.info("invite accepted; joining", metadata: ["group.id": "\(group)", "admin": "\(session.peerID)"])
            announceGroup(record)
        } else {
            p.state = "refused"
            p.reason = String(a.reason.prefix(200))
            pendingJoins[group] = p
            logger.info("invite refused", metadata: ["group.id": "\(group)", "reason": "\(a.reason)"])
        }
    }

    /// `group.join.status`: where a redemption stands.
    func joinStatus(group ref: String) throws(ControlErrorBody) -> JoinStatus {
        let hex = ref.lowercased()
        if let (id, p) = pendingJoins.first(where: { $0.key.hex == hex || $0.value.name == ref }) {
            guard p.state == "member" else { return JoinStatus(group: id.hex, name: p.name, state: p.state, reason: p.reason) }
            // Accepted: a member only once this node sees its own ADD in the fold.
            let me = identity.signing.publicKey
            guard let m = currentMembership(of: id), !m.isMember(me) else {
                return JoinStatus(group: id.hex, name: p.name, state: "member", reason: nil)
            }
            let invite = [UInt8](p.invite.inviteID)
            let outcomes = redeemingAdds(group: id, inviteID: invite, target: me)
                .map { RedeemedAddOutcome.judge($0, inviteID: invite, uses: Int(p.invite.uses), in: m) }
            if outcomes.contains(.lostRace), !outcomes.contains(.effective) {
                var lost = p
                lost.state = "lost"
                lost.reason = RedeemLimits.lostReason
                pendingJoins[id] = lost
                logger.warning("invite accepted, then lost: another admin gave its last use to another peer", metadata: ["group.id": "\(id)"])
                return JoinStatus(group: id.hex, name: p.name, state: "lost", reason: lost.reason)
            }
            return JoinStatus(group: id.hex, name: p.name, state: "accepted", reason: nil)
        }
        let g = try resolveGroup(ref)
        return JoinStatus(group: g.id.hex, name: g.name, state: "member", reason: nil)
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
        guard Node.nowMs() <= r.expiresMs else {
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
                                             writtenMs: Node.nowMs(), lostReason: nil))
        logger.info("invite redeemed; member added (unless another admin used the invite at the same time)", metadata: [
            "group.id": "\(group)", "peer.id": "\(session.peerID)", "add": "\(add.id)",
        ])
        answer(true, final: true, "added")
    }

    /// An invite handed to us over a channel: kept for `hark group accept`.
    func receiveInviteOffer(_ o: Hark_V1_InviteOffer, from session: PeerSession) {
        guard o.token.utf8.count <= InviteToken.maxCharacterCount, (try? InviteToken.decode(o.token)) != nil else { return }
        if acceptIfDirect(o.token, from: session) { return }
        offeredInvites.append(OfferedInvite(token: o.token, groupName: String(o.groupName.prefix(64)), from: session.peerID,
                                            fromName: session.hello.displayName, receivedMs: Node.nowMs()))
        if offeredInvites.count > 64 { offeredInvites.removeFirst() }
        logger.info("received an invite", metadata: ["group.name": "\(o.groupName)", "peer.id": "\(session.peerID)"])
    }

    /// `group.invites`: invites peers handed over a channel, newest first.
    func invitesOffered() -> [OfferedInviteView] {
        offeredInvites.reversed().map {
            OfferedInviteView(groupName: $0.groupName, from: $0.from.description, fromName: $0.fromName,
                              fromFingerprint: $0.from.fingerprint, receivedMs: $0.receivedMs)
        }
    }

    /// `group.accept`: joins with the newest invite offered for the group named `ref`.
    func acceptInvite(_ ref: String) throws -> GroupView {
        guard let o = offeredInvites.last(where: { $0.groupName == ref }) else {
            throw ControlErrorBody(code: .notFound, message: "no invite for a group named \(ref) was offered (see `hark group invites`)")
        }
        return try join(token: o.token)
    }

    /// After a MEMBER ADD of this node is delivered in a group with roles: write our JOIN (with
    /// our display name) once.
    func joinIfAdded(group: EventID, record: Store.GroupRecord) throws {
        guard let m = currentMembership(of: group), m.isMember(identity.signing.publicKey),
              m.role(of: identity.signing.publicKey) != .owner else { return }
        // Our JOIN, from the graph when it is loaded, else from the store's author index (an
        // error counts as joined: never a second JOIN).
        let me = identity.signing.publicKey
        let joined = graphs[group].map { $0.unorderedEntries.contains { $0.author == me && $0.kind == .join } }
            ?? ((try? store.events(group: group, author: me, kinds: [.join]))?.isEmpty != true)
        guard !joined else { return }
        var c = Hark_V1_Content()
        var j = Hark_V1_Join()
        j.displayName = identity.displayName
        c.join = j
        _ = try author(kind: .join, content: c, group: record)
        try publishPrekeyIfNeeded(group: record)
        logger.info("group joined", metadata: ["group.id": "\(group)", "group.name": "\(record.name)"])
    }

    static func isoTime(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

/// An invite handed to this node over a channel.
struct OfferedInvite: Sendable {
    let token: String
    let groupName: String
    let from: PeerID
    let fromName: String
    let receivedMs: Int64
}

extension Array where Element == String {
    func uniquedHints() -> [String] { var seen = Set<String>(); return filter { seen.insert($0).inserted }.prefix(8).map { $0 } }
}

extension Node {
    /// `group.remove`, `group.role`, `group.leave`: writes a MEMBER event if the rules allow it here.
    /// - Throws: `.invalidArgument` when this node's role does not allow it or the group is open.
    func changeMember(group ref: String, peer: String?, action: Hark_V1_MemberAction, role: String?) throws -> GroupView {
        let g = try resolveGroup(ref)
        guard let membership = currentMembership(of: g.id) else {
            throw ControlErrorBody(code: .invalidArgument, message: "\(g.name) is an open group (made before roles): it has no member management")
        }
        let me = identity.signing.publicKey
        if membershipIndex(for: g.id).conversation == .direct, action != .leave {
            throw ControlErrorBody(code: .invalidArgument, message: "a direct conversation has no member management; use `hark group leave` to leave it")
        }
        let target = try peer.map { (p: String) throws(ControlErrorBody) -> SigningPublicKey in try resolvePeerKey(p) } ?? me
        if action == .remove, target == me {
            throw ControlErrorBody(code: .invalidArgument, message: "that is this node; to leave \(g.name), run `hark group leave \(g.name)`")
        }
        var m = Hark_V1_Member()
        m.action = action
        m.target = Data(target.bytes)
        switch role {
        case nil: break
        case "admin": m.role = .admin
        case "member": m.role = .member
        default: throw ControlErrorBody(code: .invalidArgument, message: "role must be admin or member")
        }
        if action == .role, role == nil { throw ControlErrorBody(code: .invalidArgument, message: "give the new role: admin or member") }
        if action != .leave, !membership.isMember(target) {
            throw ControlErrorBody(code: .notFound, message: "\(PeerID(target).fingerprint) is not a member of \(g.name)")
        }
        guard membership.authorizes(m, by: me) else {
            let mine = membership.role(of: me)?.name ?? "not a member"
            let why: String
            switch action {
            case .leave: why = membership.isMember(me) ? "the owner cannot leave" : "this node is not a member (it was removed, or left already)"
            case .role: why = "only the owner changes roles (you are \(mine))"
            default: why = "you are \(mine); removing a member needs an admin, removing an admin or the owner needs the owner"
            }
            throw ControlErrorBody(code: .invalidArgument, message: "not allowed in \(g.name): \(why)")
        }
        var c = Hark_V1_Content()
        c.member = m
        _ = try author(kind: .member, content: c, group: g)
        return groupView(g)
    }
}

extension Node {
    /// Adds `key` as a member of a group with roles (an ADD by this node, which must be an admin).
    /// Used for direct conversations and by tests; peers normally join by redeeming an invite.
    @discardableResult
    func addMember(group ref: String, key: SigningPublicKey, role: Hark_V1_Role = .member, displayName: String = "") throws -> GroupView {
        let g = try resolveGroup(ref)
        guard let membership = currentMembership(of: g.id) else {
            throw ControlErrorBody(code: .invalidArgument, message: "\(g.name) is an open group: members join with the token")
        }
        if membership.isMember(key) { return groupView(g) }
        var m = Hark_V1_Member()
        m.action = .add
        m.target = Data(key.bytes)
        m.role = role
        m.displayName = String(displayName.prefix(64))
        guard membership.authorizes(m, by: identity.signing.publicKey) else {
            throw ControlErrorBody(code: .invalidArgument, message: "only admins and the owner of \(g.name) add members")
        }
        var c = Hark_V1_Content()
        c.member = m
        _ = try author(kind: .member, content: c, group: g)
        return groupView(g)
    }
}
