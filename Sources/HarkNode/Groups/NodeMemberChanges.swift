// Member changes in a group with roles: `group.remove`, `group.role`, `group.leave`, and
// `addMember` (direct conversations, tests). Writes MEMBER events; isolated to the node actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore

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

    /// Adds `key` as a member of a group with roles (an ADD by this node, which must be an admin).
    /// Used for direct conversations and by tests; peers normally join by redeeming an invite.
    @discardableResult
    public func addMember(group ref: String, key: SigningPublicKey, role: Hark_V1_Role = .member, displayName: String = "") throws(ControlErrorBody) -> GroupView {
        try typedErrors("group.add") {
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
}
