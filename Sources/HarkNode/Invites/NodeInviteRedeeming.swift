// The joiner side of invites: redeeming a version-2 invite with an admin and following its
// answer (`PendingJoin`), invites offered over a channel (`OfferedInvite`, `group.accept`),
// and the JOIN written once this node is added. Node actor state (`pendingJoins`,
// `offeredInvites`); isolated to the actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import HarkWireProto
import Logging

/// A join in progress: the invite is being redeemed with an admin (PROTOCOL.md §5.6).
struct PendingJoin: Sendable {
    let invite: Hark_V1_Invite
    let genesis: Event
    let name: String
    /// The admin whose acceptance was taken.
    var acceptedBy: PeerID?
    var state: String            // "pending", "member" (an admin accepted), "refused", "lost"
    var reason: String?
}

extension Node {
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
            // swift-format-ignore: NeverUseForceTry
            // `forKey` is 32 bytes here (the guard above), all a public key needs.
            throw ControlErrorBody(code: .invalidToken, message: "this invite is for another peer (\(PeerID(try! SigningPublicKey(bytes: [UInt8](invite.forKey))).fingerprint))")
        }
        if clock.wallMs() > invite.expiresMs {
            throw ControlErrorBody(code: .invalidToken, message: "this invite expired at \(Self.isoTime(invite.expiresMs)); ask for a new one")
        }
        inviteState.pendingJoins[genesis.id] = PendingJoin(invite: invite, genesis: genesis, name: name, state: "pending", reason: nil)
        for s in peerTable.sessions { sendRedeem(genesis.id, to: s) }
        for hint in invite.hints.prefix(8) {
            guard let address = Self.resolve(hint) else { continue }
            Task { await self.dial(address, label: hint, source: "invite") }
        }
        return GroupView(id: genesis.id.hex, name: name, events: 0, members: [], createdMs: genesis.wallMs, state: "pending")
    }

    func sendRedeem(_ group: EventID, to session: PeerSession) {
        guard let p = inviteState.pendingJoins[group], p.state == "pending" else { return }
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
        guard let group = try? EventID(bytes: [UInt8](a.groupID)), var p = inviteState.pendingJoins[group],
              [UInt8](a.inviteID) == [UInt8](p.invite.inviteID), a.final else { return }
        if p.state == "member", !a.accepted, p.acceptedBy == session.peerID,
           !(currentMembership(of: group)?.isMember(identity.signing.publicKey) ?? false) {
            p.state = "lost"
            p.reason = String(a.reason.prefix(200))
            inviteState.pendingJoins[group] = p
            logger.warning("invite accepted, then lost: another admin gave its last use to another peer", metadata: [
                "group.id": "\(group)", "admin": "\(session.peerID)", "reason": "\(p.reason ?? "")",
            ])
            return
        }
        guard p.state == "pending" else { return }
        if a.accepted {
            p.state = "member"
            p.acceptedBy = session.peerID
            inviteState.pendingJoins[group] = p
            let record = Store.GroupRecord(id: group, name: p.name, key: [UInt8](p.invite.groupKey), createdMs: p.genesis.wallMs,
                                           joinedMs: clock.wallMs())
            try store.saveGroup(record)
            try persist(p.genesis)
            logger.info("invite accepted; joining", metadata: ["group.id": "\(group)", "admin": "\(session.peerID)"])
            announceGroup(record)
        } else {
            p.state = "refused"
            p.reason = String(a.reason.prefix(200))
            inviteState.pendingJoins[group] = p
            logger.info("invite refused", metadata: ["group.id": "\(group)", "reason": "\(a.reason)"])
        }
    }

    /// `group.join.status`: where a redemption stands.
    public func joinStatus(group ref: String) throws(ControlErrorBody) -> JoinStatus {
        let hex = ref.lowercased()
        if let (id, p) = inviteState.pendingJoins.first(where: { $0.key.hex == hex || $0.value.name == ref }) {
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
                inviteState.pendingJoins[id] = lost
                logger.warning("invite accepted, then lost: another admin gave its last use to another peer", metadata: ["group.id": "\(id)"])
                return JoinStatus(group: id.hex, name: p.name, state: "lost", reason: lost.reason)
            }
            return JoinStatus(group: id.hex, name: p.name, state: "accepted", reason: nil)
        }
        let g = try resolveGroup(ref)
        return JoinStatus(group: g.id.hex, name: g.name, state: "member", reason: nil)
    }

    /// An invite handed to us over a channel: kept for `hark group accept`.
    func receiveInviteOffer(_ o: Hark_V1_InviteOffer, from session: PeerSession) {
        guard o.token.utf8.count <= InviteToken.maxCharacterCount, (try? InviteToken.decode(o.token)) != nil else { return }
        if acceptIfDirect(o.token, from: session) { return }
        inviteState.offeredInvites.append(OfferedInvite(token: o.token, groupName: String(o.groupName.prefix(64)), from: session.peerID,
                                            fromName: session.hello.displayName, receivedMs: clock.wallMs()))
        if inviteState.offeredInvites.count > 64 { inviteState.offeredInvites.removeFirst() }
        logger.info("received an invite", metadata: ["group.name": "\(o.groupName)", "peer.id": "\(session.peerID)"])
    }

    /// `group.invites`: invites peers handed over a channel, newest first.
    func invitesOffered() -> [OfferedInviteView] {
        inviteState.offeredInvites.reversed().map {
            OfferedInviteView(groupName: $0.groupName, from: $0.from.description, fromName: $0.fromName,
                              fromFingerprint: $0.from.fingerprint, receivedMs: $0.receivedMs)
        }
    }

    /// `group.accept`: joins with the newest invite offered for the group named `ref`.
    func acceptInvite(_ ref: String) throws -> GroupView {
        guard let o = inviteState.offeredInvites.last(where: { $0.groupName == ref }) else {
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
        let joined = logState.graphs[group].map { $0.unorderedEntries.contains { $0.author == me && $0.kind == .join } }
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
