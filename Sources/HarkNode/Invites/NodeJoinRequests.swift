import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkStore
import HarkWireProto
import Logging

/// Joining a group by code, without a token (PROTOCOL.md §5.7, docs/SECURITY.md "Joining by
/// code"). The state lives in `JoinRequestBook` (admin side), `OutgoingJoinRequest` (requester
/// side) and `JoinRateLimiter`; these methods move frames between them and the channels.
extension Node {
    // MARK: frames

    private func sendJoinFrame(_ set: (inout Hark_V1_Frame) -> Void, on session: PeerSession) {
        var frame = Hark_V1_Frame()
        set(&frame)
        session.send(frame)
    }

    private func answerJoin(_ groupName: String, accepted: Bool, token: String = "", reason: String, retryAfterMs: Int64 = 0,
                            noGroup: Bool = false, on session: PeerSession) {
        var a = Hark_V1_JoinAnswer()
        a.groupName = groupName
        a.accepted = accepted
        a.token = token
        a.reason = String(reason.prefix(120))
        a.retryAfterMs = retryAfterMs
        a.noGroup = noGroup
        sendJoinFrame({ $0.joinAnswer = a }, on: session)
    }

    /// A group name from a join frame: 1 to 64 bytes of UTF-8.
    private func joinGroupName(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= JoinCodeLimits.maxGroupNameBytes else {
            throw ProtocolViolation("join frame with a group name of \(name.utf8.count) bytes")
        }
        return name
    }

    /// The group named `name` that this node administers (owner or admin), if any.
    func administeredGroup(named name: String) -> Store.GroupRecord? {
        let me = identity.signing.publicKey
        return ((try? store.allGroups()) ?? []).first { g in
            g.name == name && (currentMembership(of: g.id)?.role(of: me) ?? .member) >= .admin
                && currentMembership(of: g.id)?.isMember(me) == true
        }
    }

    // MARK: admin side

    /// "Do you administer a group named X?" Answered for any group this node administers
    /// (docs/SECURITY.md "Joining by code" states what that tells a stranger); rate-limited per peer.
    func receiveJoinQuery(_ q: Hark_V1_JoinQuery, from session: PeerSession) throws {
        let name = try joinGroupName(q.groupName)
        if let wait = inviteState.joinLimiter.takeQuery(session.peerID.key, name: name, nowMs: clock.monotonicMs(),
                                            repeatWindowMs: JoinCodeLimits.queryWindowMs) {
            return answerJoin(name, accepted: false, reason: "too many join requests from this node; try again later",
                              retryAfterMs: wait, on: session)
        }
        var a = Hark_V1_JoinQueryAnswer()
        a.groupName = name
        a.admin = administeredGroup(named: name) != nil
        sendJoinFrame({ $0.joinQueryAnswer = a }, on: session)
    }

    /// A request to join: refused at once when rate-limited, when no group of the name is
    /// administered here, or when the peer is a member already; approved at once when a `--for`
    /// invite for the peer is remembered; else held for the user, with our nonce sent back.
    func receiveJoinRequest(_ r: Hark_V1_JoinRequest, from session: PeerSession) throws {
        let name = try joinGroupName(r.groupName)
        guard r.commitment.count == 32 else { throw ProtocolViolation("join request commitment of \(r.commitment.count) bytes") }
        let peer = session.peerID
        if let wait = inviteState.joinLimiter.take(peer.key, nowMs: clock.monotonicMs()) {
            logger.warning("join request refused: the peer asks too often", metadata: ["peer.id": "\(peer)", "group.name": "\(name)"])
            return answerJoin(name, accepted: false, reason: "too many join requests from this node; try again later",
                              retryAfterMs: wait, on: session)
        }
        guard let g = administeredGroup(named: name) else {
            return answerJoin(name, accepted: false, reason: "\(identity.displayName) administers no group named \(name)", noGroup: true,
                              on: session)
        }
        if currentMembership(of: g.id)?.isMember(peer.key) == true {
            return answerJoin(name, accepted: false, reason: "already a member of \(name)", on: session)
        }
        if let token = inviteState.joinRequestBook.takeRemembered(group: g.id, peer: peer.key, nowMs: clock.wallMs()) {
            logger.info("join request approved by an invite made for the peer", metadata: ["peer.id": "\(peer)", "group.id": "\(g.id)"])
            return answerJoin(name, accepted: true, token: token, reason: "approved: an invite was made for this node", on: session)
        }
        let nonce = SecureRandom.bytes(PairingCode.nonceByteCount)
        inviteState.joinRequestBook.add(IncomingJoinRequest(
            sessionID: session.id, peer: peer, displayName: String(r.displayName.prefix(64)), group: g.id, groupName: g.name,
            commitment: [UInt8](r.commitment), ownNonce: nonce, code: nil, receivedMs: clock.wallMs(), receivedMonoMs: clock.monotonicMs()))
        var c = Hark_V1_JoinChallenge()
        c.groupName = name
        c.responderNonce = Data(nonce)
        sendJoinFrame({ $0.joinChallenge = c }, on: session)
    }

    /// The requester revealed its nonce: the code is known; the user decides with `hark group approve`.
    func receiveJoinReveal(_ r: Hark_V1_JoinReveal, from session: PeerSession) throws {
        let name = try joinGroupName(r.groupName)
        switch inviteState.joinRequestBook.reveal(sessionID: session.id, peer: session.peerID, groupName: name, nonce: [UInt8](r.initiatorNonce),
                                      handshakeHash: session.hello.handshakeHash) {
        case let .code(code):
            logger.notice("join request waiting for approval; compare the code with the requester's screen", metadata: [
                "peer.id": "\(session.peerID)", "peer.name": "\(session.hello.displayName)", "group.name": "\(name)", "code": "\(code)",
            ])
        case .mismatch:
            logger.error("join request dropped: the peer's nonce does not match its commitment", metadata: ["peer.id": "\(session.peerID)"])
            answerJoin(name, accepted: false, reason: "the nonce does not match the commitment", on: session)
        case .unknown: break
        }
    }

    private func expireJoinRequests() {
        inviteState.joinRequestBook.expire(nowMonoMs: clock.monotonicMs(), nowMs: clock.wallMs(), openSessions: Set(peerTable.ids))
    }

    private func pendingView(_ r: IncomingJoinRequest) -> PendingJoinRequestView {
        PendingJoinRequestView(groupId: r.group.hex, groupName: r.groupName, peerId: r.peer.description,
                               displayName: r.displayName, fingerprint: r.peer.fingerprint, code: r.code,
                               receivedMs: r.receivedMs, verified: isVerified(r.peer.key))
    }

    /// `group.requests`: requests awaiting a decision, oldest first, of one group or all.
    func joinRequests(group ref: String?) throws(ControlErrorBody) -> [PendingJoinRequestView] {
        expireJoinRequests()
        let only = try ref.map { (r: String) throws(ControlErrorBody) -> EventID in try resolveGroup(r).id }
        return inviteState.joinRequestBook.requests.filter { only == nil || $0.group == only }.map { pendingView($0) }
    }

    /// `group.approve` / `group.refuse`: decides the request of `group` picked by its code or its peer.
    /// Approval hands over an invite for that peer (uses 1, valid 10 min), which it redeems (§5.6).
    /// - Throws: `.invalidArgument` for a code no request shows (nothing is approved), `.notFound`
    ///   for a peer with no request.
    func decideJoinRequest(group ref: String, request: String, approve: Bool) throws -> PendingJoinRequestView {
        expireJoinRequests()
        let g = try resolveGroup(ref)
        let digits = request.filter { !$0.isWhitespace }
        let selection: JoinRequestBook.Selection
        if digits.count == 6, digits.allSatisfy(\.isNumber) {
            selection = inviteState.joinRequestBook.select(group: g.id, code: digits)
        } else {
            selection = inviteState.joinRequestBook.select(group: g.id, peer: try resolvePeer(request).id)
        }
        let r: IncomingJoinRequest
        switch selection {
        case let .found(found): r = found
        case .noCode:
            throw ControlErrorBody(code: .invalidArgument, message: "no request to join \(g.name) shows the code \(request); nothing was \(approve ? "approved" : "refused") (see `hark group requests \(g.name)`)")
        case .noPeer:
            throw ControlErrorBody(code: .notFound, message: "\(request) has no request to join \(g.name) with a code (see `hark group requests \(g.name)`)")
        }
        guard let session = peerTable[r.sessionID] else {
            inviteState.joinRequestBook.remove(r)
            throw ControlErrorBody(code: .notFound, message: "the channel to \(r.displayName) closed; the request is void (ask them to run `hark group join` again)")
        }
        if approve {
            let token = try invite(group: g.id.hex, forPeer: r.peer.description, expiresMs: JoinCodeLimits.inviteExpiryMs, uses: 1,
                                   offer: false).token
            answerJoin(r.groupName, accepted: true, token: token, reason: "approved", on: session)
            logger.info("join request approved", metadata: ["peer.id": "\(r.peer)", "group.id": "\(g.id)"])
        } else {
            answerJoin(r.groupName, accepted: false, reason: "refused by \(identity.displayName)", on: session)
            logger.info("join request refused", metadata: ["peer.id": "\(r.peer)", "group.id": "\(g.id)"])
        }
        inviteState.joinRequestBook.remove(r)
        return pendingView(r)
    }

    // MARK: requester side

    private func outgoingView(_ o: OutgoingJoinRequest) -> JoinRequestView {
        JoinRequestView(groupName: o.groupName, state: o.state.rawValue, code: o.code, adminId: o.admin?.description,
                        adminName: o.adminName, adminFingerprint: o.admin?.fingerprint, groupId: o.groupID, reason: o.reason,
                        retryAfterMs: o.retryAfterMs)
    }

    /// `group.request`: asks `admin` (or, without one, every connected peer) to let this node join
    /// the group named `name`. A request for the same name still in progress is returned as is.
    /// - Throws: `.invalidArgument` for a bad name, `.alreadyExists` when a member already,
    ///   `.notFound` for an unknown or unconnected admin.
    func requestJoin(group name: String, admin: String?) throws(ControlErrorBody) -> JoinRequestView {
        guard !name.isEmpty, name.utf8.count <= JoinCodeLimits.maxGroupNameBytes else {
            throw ControlErrorBody(code: .invalidArgument, message: "a group name is 1 to 64 bytes")
        }
        if let o = inviteState.outgoingJoins[name], !o.isFinished { return outgoingView(o) }
        if let held = ((try? store.allGroups()) ?? []).first(where: { $0.name == name }),
           currentMembership(of: held.id)?.isMember(identity.signing.publicKey) ?? true {
            throw ControlErrorBody(code: .alreadyExists, message: "already a member of \(name) (\(held.id.hex.prefix(12)))")
        }
        var o = OutgoingJoinRequest(groupName: name, nonce: SecureRandom.bytes(PairingCode.nonceByteCount), nowMonoMs: clock.monotonicMs())
        if let admin {
            let (id, adminName) = try resolvePeer(admin)
            guard let session = sessionFor(id) else {
                throw ControlErrorBody(code: .notFound, message: "no open channel to \(adminName) (\(id.fingerprint)); both nodes must be running and connected")
            }
            guard session.hello.speaksJoinByCode else {
                throw ControlErrorBody(code: .notFound, message: "the hark of \(adminName) (\(id.fingerprint)) does not take join requests; ask for an invite token")
            }
            inviteState.outgoingJoins[name] = o
            ask(name, session: session)
            return outgoingView(inviteState.outgoingJoins[name] ?? o)
        }
        var q = Hark_V1_JoinQuery()
        q.groupName = name
        for s in peerTable.sessions where s.hello.speaksJoinByCode {
            o.queried[s.id] = s.peerID
            sendJoinFrame({ $0.joinQuery = q }, on: s)
        }
        inviteState.outgoingJoins[name] = o
        advanceJoin(name)
        if inviteState.outgoingJoins[name]?.state == .querying {
            Task {
                try? await self.clock.sleep(ms: JoinCodeLimits.queryWindowMs + 50)
                self.advanceJoin(name)   // the task runs on the node's actor
            }
        }
        return outgoingView(inviteState.outgoingJoins[name] ?? o)
    }

    /// Sends the request itself to the admin on `session`.
    private func ask(_ name: String, session: PeerSession) {
        guard var o = inviteState.outgoingJoins[name] else { return }
        o.state = .asked
        o.admin = session.peerID
        o.adminName = session.hello.displayName
        o.sessionID = session.id
        inviteState.outgoingJoins[name] = o
        var r = Hark_V1_JoinRequest()
        r.groupName = name
        r.commitment = Data(PairingCode.commitment(handshakeHash: session.hello.handshakeHash, initiatorNonce: o.nonce))
        r.displayName = identity.displayName
        sendJoinFrame({ $0.joinRequest = r }, on: session)
    }

    /// Moves a querying request on once its query is decided; fails one whose channel closed.
    func advanceJoin(_ name: String) {
        guard var o = inviteState.outgoingJoins[name] else { return }
        if o.state == .querying {
            // A queried channel that closed unanswered (two nodes that dial each other at once
            // keep one channel of the two, PROTOCOL.md §3.2): ask the same peer again on its open channel.
            var q = Hark_V1_JoinQuery()
            q.groupName = name
            for (id, peer) in o.queried where peerTable[id] == nil && !o.hasAnswer(from: peer) {
                for s in peerTable.sessions where s.peerID == peer && s.hello.speaksJoinByCode && o.queried[s.id] == nil {
                    o.queried[s.id] = peer
                    sendJoinFrame({ $0.joinQuery = q }, on: s)
                }
            }
            var names: [PeerID: String] = [:]
            for s in peerTable.sessions { names[s.peerID] = s.hello.displayName }
            let choice = o.decide(nowMonoMs: clock.monotonicMs(), names: names)
            inviteState.outgoingJoins[name] = o
            if let choice {
                // The channel that answered may have closed since: any open one to that peer will do.
                let open = peerTable[choice.session]
                    ?? peerTable.sessions.first { $0.peerID == choice.peer && $0.hello.speaksJoinByCode }
                guard let session = open else {
                    o.state = .failed
                    o.reason = "the channel to the admin closed"
                    inviteState.outgoingJoins[name] = o
                    return
                }
                ask(name, session: session)
            }
        } else if o.state == .asked || o.state == .code, let id = o.sessionID, peerTable[id] == nil {
            o.state = .failed
            o.reason = "the channel to \(o.adminName ?? "the admin") closed before an answer; run the join again"
            inviteState.outgoingJoins[name] = o
        }
    }

    /// `group.request.status`.
    func joinRequestStatus(group name: String) throws(ControlErrorBody) -> JoinRequestView {
        advanceJoin(name)
        guard let o = inviteState.outgoingJoins[name] else {
            throw ControlErrorBody(code: .notFound, message: "no request to join \(name) was made")
        }
        return outgoingView(o)
    }

    func receiveJoinQueryAnswer(_ a: Hark_V1_JoinQueryAnswer, from session: PeerSession) throws {
        guard var o = inviteState.outgoingJoins[a.groupName], o.state == .querying, o.queried[session.id] != nil else { return }
        o.answers[session.id] = a.admin
        inviteState.outgoingJoins[a.groupName] = o
        advanceJoin(a.groupName)
    }

    func receiveJoinChallenge(_ c: Hark_V1_JoinChallenge, from session: PeerSession) throws {
        guard var o = inviteState.outgoingJoins[c.groupName], o.state == .asked, o.sessionID == session.id else { return }
        guard c.responderNonce.count == PairingCode.nonceByteCount else {
            throw ProtocolViolation("join challenge nonce of \(c.responderNonce.count) bytes")
        }
        o.code = PairingCode.code(handshakeHash: session.hello.handshakeHash, initiatorNonce: o.nonce,
                                  responderNonce: [UInt8](c.responderNonce))
        o.state = .code
        inviteState.outgoingJoins[c.groupName] = o
        var r = Hark_V1_JoinReveal()
        r.groupName = c.groupName
        r.initiatorNonce = Data(o.nonce)
        sendJoinFrame({ $0.joinReveal = r }, on: session)
    }

    /// The admin's decision. An approval's token is checked (a version-2 invite for this node, of
    /// a group of the name asked for) and redeemed like `hark group join TOKEN`.
    func receiveJoinAnswer(_ a: Hark_V1_JoinAnswer, from session: PeerSession) throws {
        guard var o = inviteState.outgoingJoins[a.groupName], !o.isFinished else { return }
        let reason = String(a.reason.prefix(200))
        if o.state == .querying {
            // Only a rate-limited query is answered with a JoinAnswer.
            guard o.queried[session.id] != nil, !a.accepted else { return }
            o.limitedBy[session.id] = max(1, a.retryAfterMs)
            inviteState.outgoingJoins[a.groupName] = o
            return advanceJoin(a.groupName)
        }
        guard o.sessionID == session.id else { return }
        guard a.accepted else {
            o.state = a.retryAfterMs > 0 ? .rateLimited : a.noGroup ? .notFound : .refused
            o.reason = reason
            o.retryAfterMs = a.retryAfterMs > 0 ? a.retryAfterMs : nil
            inviteState.outgoingJoins[a.groupName] = o
            logger.info("join request refused", metadata: ["group.name": "\(a.groupName)", "admin": "\(session.peerID)", "reason": "\(reason)"])
            return
        }
        do {
            let invite = try InviteToken.decode(a.token)
            guard invite.version == 2, [UInt8](invite.forKey) == identity.signing.publicKey.bytes else {
                throw ControlErrorBody(code: .invalidToken, message: "the admin handed over an invite that is not for this node")
            }
            let g = try join(token: a.token)
            o.state = .accepted
            o.groupID = g.id
            logger.info("join request approved; redeeming the invite", metadata: ["group.id": "\(g.id)", "admin": "\(session.peerID)"])
        } catch {
            o.state = .failed
            o.reason = "the invite handed over cannot be used: \((error as? ControlErrorBody)?.message ?? "\(error)")"
            logger.warning("join request approved, but the invite cannot be used", metadata: ["reason": "\(o.reason ?? "")"])
        }
        inviteState.outgoingJoins[a.groupName] = o
    }
}
