import HarkLog
import HarkWireProto

/// How a MEMBER ADD that redeemed an invite fared in the membership fold (PROTOCOL.md §5.2,
/// §5.6). Two admins can accept one invite at once, each writing an ADD; the fold keeps the
/// first `invite_uses` of them in total order, so the others lose. Pure.
enum RedeemedAddOutcome: Sendable, Equatable {
    /// The ADD made its target a member.
    case effective
    /// The ADD is inert because the invite's uses went to ADDs that come first in total order.
    case lostRace
    /// The ADD is inert for another reason (the target was a member already, a removal of it
    /// was concurrent, its author was no longer an admin).
    case inert

    /// - Parameters:
    ///   - add: the ADD event, delivered (in the graph `membership` was folded from).
    ///   - inviteID: its `invite_id` (16 bytes); `uses`: its `invite_uses`.
    static func judge(_ add: EventID, inviteID: [UInt8], uses: Int, in membership: Membership) -> RedeemedAddOutcome {
        if membership.effective.contains(add) { return .effective }
        if membership.inviteUses[inviteID, default: 0] >= uses { return .lostRace }
        return .inert
    }
}

/// An ADD this node wrote for a redeemed invite, watched until the fold says whether it held.
struct RedeemedAdd: Sendable {
    let group: EventID
    let peer: PeerID
    let inviteID: [UInt8]
    let uses: Int
    /// When this node wrote the ADD, ms since the Unix epoch (the oldest is forgotten first).
    let writtenMs: Int64
    /// Set once the ADD lost: the peer is told (now or when it next connects).
    var lostReason: String?
}

/// Bounds of the watch list of redeemed ADDs.
enum RedeemLimits {
    /// Most redeemed ADDs watched at once; the oldest go first.
    static let maxWatched = 256
    /// What a peer whose ADD lost is told (≤ 200 bytes, the RedeemAnswer reason limit).
    static let lostReason = "another admin gave this invite's last use to another peer at the same time; you were not added; ask for a new invite"
}

extension Node {
    /// The ADDs in `group` that redeem `inviteID` for `target`, delivered here.
    func redeemingAdds(group: EventID, inviteID: [UInt8], target: SigningPublicKey) -> [EventID] {
        guard let view = membershipView(group: group) else { return [] }
        return view.events.filter { id in
            guard view.entry(id)?.kind == .member, let m = memberContent(id, group: group) else { return false }
            return m.action == .add && [UInt8](m.inviteID) == inviteID && [UInt8](m.target) == target.bytes
        }
    }

    /// Admin side: after membership events of `group` were delivered, checks the ADDs this node
    /// wrote for redeemed invites. One that lost to another admin's ADD of the same invite is
    /// logged, with the peer that got the use, and the loser is told (RedeemAnswer refused).
    func checkRedeemedAdds(group: EventID) {
        let watched = inviteState.redeemedAdds.filter { $0.value.group == group && $0.value.lostReason == nil }
        guard !watched.isEmpty, let membership = currentMembership(of: group), let graph = membershipView(group: group) else { return }
        for (add, r) in watched where graph.entry(add) != nil {
            guard RedeemedAddOutcome.judge(add, inviteID: r.inviteID, uses: r.uses, in: membership) == .lostRace else { continue }
            let winners = membership.effective.compactMap { id -> String? in
                guard let m = memberContent(id, group: group), m.action == .add, [UInt8](m.inviteID) == r.inviteID,
                      let key = try? SigningPublicKey(bytes: [UInt8](m.target)) else { return nil }
                let by = graph.entry(id).map { PeerID($0.author).description } ?? "?"
                return "\(PeerID(key)) (added by \(by))"
            }
            logger.warning("invite redeemed at two admins at once: this node's ADD lost, the peer is NOT a member", metadata: [
                "group.id": "\(group)", "peer.id": "\(r.peer)", "invite.id": "\(Hex.encode(r.inviteID))",
                "add": "\(add)", "use.went.to": "\(winners.joined(separator: ", "))",
            ])
            inviteState.redeemedAdds[add]?.lostReason = RedeemLimits.lostReason
            for s in peerTable.sessions where s.peerID == r.peer { sendLostRedeem(add, to: s) }
        }
    }

    /// Every membership event of the group delivered here, and a look-up of delivered events:
    /// from the graph when it is loaded, else from the store (`TipHistory`), so a node that
    /// validated from the store (`StoreHistory`) sees the same.
    func membershipView(group: EventID) -> (events: [EventID], entry: (EventID) -> CausalGraph.Entry?)? {
        if let graph = logState.graphs[group] { return (graph.membershipEvents(before: graph.heads), { graph.entry($0) }) }
        guard let tip = try? tipHistory(group: group) else { return nil }
        return (tip.membership, { tip.entry($0) })
    }

    /// Tells `session` (the redeemer) that the ADD `add` lost; see ``checkRedeemedAdds(group:)``.
    func sendLostRedeem(_ add: EventID, to session: PeerSession) {
        guard let r = inviteState.redeemedAdds[add], let reason = r.lostReason else { return }
        var a = Hark_V1_RedeemAnswer()
        a.groupID = Data(r.group.bytes)
        a.inviteID = Data(r.inviteID)
        a.accepted = false
        a.final = true
        a.reason = reason
        var frame = Hark_V1_Frame()
        frame.redeemAnswer = a
        session.send(frame)
    }

    /// A redeemer that lost and reconnects is told again.
    func resendLostRedeems(to session: PeerSession) {
        for (add, r) in inviteState.redeemedAdds where r.peer == session.peerID && r.lostReason != nil { sendLostRedeem(add, to: session) }
    }

    /// Starts watching an ADD this node wrote for a redeemed invite.
    func watchRedeemedAdd(_ add: EventID, _ r: RedeemedAdd) {
        if inviteState.redeemedAdds.count >= RedeemLimits.maxWatched,
           let oldest = inviteState.redeemedAdds.min(by: { $0.value.writtenMs < $1.value.writtenMs })?.key {
            inviteState.redeemedAdds.removeValue(forKey: oldest)
        }
        inviteState.redeemedAdds[add] = r
    }
}

import struct Foundation.Data
import HarkCrypto
