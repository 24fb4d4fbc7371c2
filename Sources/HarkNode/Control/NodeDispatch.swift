// The control methods: `dispatch` maps each request line to its handler on the actor;
// `share`, `log.follow` and `watch` run outside it (hashing files; streams of event lines).
// No state of its own.

import Foundation
import HarkControl
import HarkStore
import Logging
import NIOCore

extension Node {
    /// Runs one request; returns the response line.
    func dispatch(head: RequestHead, line: [UInt8]) -> [UInt8] {
        func ok<R: Codable & Sendable>(_ r: R) throws -> [UInt8] { try ControlCoding.encodeLine(Response(id: head.id, result: r)) }
        do {
            switch head.method {
            case "status": return try ok(status())
            case "handover": return try ok(try handOver())
            case "peers": return try ok(peers())
            case "group.create":
                let p = try params(GroupCreateOptions.self, line)
                return try ok(try createGroup(name: p.name, kind: p.kind, history: p.history))
            case "group.invite":
                let p = try params(GroupInviteParams.self, line)
                return try ok(try invite(group: p.group, forPeer: p.forPeer, expiresMs: p.expiresMs, uses: p.uses))
            case "group.join.status": return try ok(try joinStatus(group: try params(GroupRefParams.self, line).group))
            case "group.invites": return try ok(invitesOffered())
            case "group.accept": return try ok(try acceptInvite(try params(GroupRefParams.self, line).group))
            case "group.remove":
                let p = try params(GroupMemberParams.self, line)
                return try ok(try changeMember(group: p.group, peer: p.peer, action: .remove, role: nil))
            case "group.role":
                let p = try params(GroupMemberParams.self, line)
                return try ok(try changeMember(group: p.group, peer: p.peer, action: .role, role: p.role))
            case "group.leave":
                return try ok(try changeMember(group: try params(GroupRefParams.self, line).group, peer: nil, action: .leave, role: nil))
            case "group.join": return try ok(try join(token: try params(GroupJoinParams.self, line).token))
            case "group.request":
                let p = try params(JoinRequestParams.self, line)
                return try ok(try requestJoin(group: p.group, admin: p.admin))
            case "group.request.status": return try ok(try joinRequestStatus(group: try params(GroupRefParams.self, line).group))
            case "group.requests": return try ok(try joinRequests(group: try params(JoinRequestsParams.self, line).group))
            case "group.approve", "group.refuse":
                let p = try params(JoinDecisionParams.self, line)
                return try ok(try decideJoinRequest(group: p.group, request: p.request, approve: head.method == "group.approve"))
            case "group.list": return try ok(try store.allGroups().map(groupView))
            case "send":
                let p = try params(SendParams.self, line)
                return try ok(try sendMessage(group: p.group, text: p.text, replyTo: p.replyTo, resolveMentions: p.mentions ?? true))
            case "search":
                let p = try params(SearchParams.self, line)
                return try ok(try search(p))
            case "log":
                let p = try params(LogParams.self, line)
                return try ok(try log(group: p.group, limit: p.limit, before: p.before, after: p.after, files: p.files ?? false))
            case "edit":
                let p = try params(EditParams.self, line)
                return try ok(try edit(group: p.group, message: p.message, text: p.text))
            case "delete":
                let p = try params(DeleteParams.self, line)
                _ = try delete(group: p.group, message: p.message)
                struct Deleted: Codable, Sendable { var deleted: Bool }
                return try ok(Deleted(deleted: true))
            case "react":
                let p = try params(ReactParams.self, line)
                return try ok(try react(group: p.group, message: p.message, emoji: p.emoji, remove: p.remove))
            case "log.ids": return try ok(try eventIDs(group: try params(GroupRefParams.self, line).group))
            case "log.graph": return try ok(try graphRows(group: try params(GroupRefParams.self, line).group))
            case "export": return try ok(try exportEvents(group: try params(GroupRefParams.self, line).group))
            case "import": return try ok(try importEvents(try params(ImportParams.self, line).events))
            // `verify` is the deprecated name of `audit` (kept for one release).
            case "audit", "verify": return try ok(try verify(group: try params(VerifyParams.self, line).group))
            case "presence.set":
                let p = try params(PresenceSetParams.self, line)
                return try ok(try setPresence(state: p.state, statusText: p.statusText))
            case "typing":
                let p = try params(TypingParams.self, line)
                try sendTyping(group: p.group, active: p.active)
                struct Sent: Codable, Sendable { var sent: Bool }
                return try ok(Sent(sent: true))
            case "read":
                let p = try params(ReadParams.self, line)
                return try ok(try markRead(group: p.group, through: p.through))
            case "test.offer_raw": return try ok(try offerRaw(try params(RawOfferParams.self, line)))
            case "receipts":
                let p = try params(ReceiptsParams.self, line)
                return try ok(try receipts(group: p.group, message: p.message))
            // Trust (NodeTrust.swift).
            case "safety_number": return try ok(try safetyNumber(peer: try params(PeerRefParams.self, line).peer))
            case "pair.start": return try ok(try startPairing(peer: try params(PeerRefParams.self, line).peer))
            case "pair.status": return try ok(try pairingStatus(peer: try params(PeerRefParams.self, line).peer))
            case "pair.list": return try ok(listPairings())
            case "pair.confirm":
                let p = try params(PairConfirmParams.self, line)
                return try ok(try confirmPairing(peer: p.peer, code: p.code))
            // The user's decisions about keys (NodePeerNames.swift).
            case "peer.alias":
                let p = try params(PeerAliasParams.self, line)
                return try ok(try setPeerAlias(peer: p.peer, alias: p.alias))
            case "peer.block": return try ok(try setPeerBlocked(peer: try params(PeerRefParams.self, line).peer, blocked: true))
            case "peer.unblock": return try ok(try setPeerBlocked(peer: try params(PeerRefParams.self, line).peer, blocked: false))
            case "peer.forget": return try ok(try forgetPeer(peer: try params(PeerRefParams.self, line).peer))
            case "pair.reject": return try ok(try rejectPairing(peer: try params(PeerRefParams.self, line).peer))
            default:
                throw ControlErrorBody(code: .unknownMethod, message: "unknown method \"\(head.method)\"")
            }
        } catch let body as ControlErrorBody {
            return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: body))) ?? []
        } catch {
            logger.error("control request failed", metadata: ["method": "\(head.method)", "error": "\(error)"])
            let code: ControlErrorCode = error is StoreError ? .storage : .internal
            return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: ControlErrorBody(code: code, message: "\(error)")))) ?? []
        }
    }

    /// `share`, which works outside the actor (hashing files). (`files` is a read: ReadService.swift.)
    nonisolated func dispatchFiles(head: RequestHead, line: [UInt8]) async -> [UInt8] {
        do {
            return try ControlCoding.encodeLine(Response(id: head.id, result: try await share(try params(ShareParams.self, line))))
        } catch let body as ControlErrorBody {
            return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: body))) ?? []
        } catch {
            logger.error("control request failed", metadata: ["method": "\(head.method)", "error": "\(error)"])
            let code: ControlErrorCode = error is StoreError ? .storage : .internal
            return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: ControlErrorBody(code: code, message: "\(error)")))) ?? []
        }
    }

    /// `log.follow`: the response (`{"following": true}`), then one event line per new message in
    /// the group, until the client closes or the daemon stops.
    nonisolated func streamFollow(head: RequestHead, line: [UInt8], channel: any Channel,
                                  outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let subscription: (Int, AsyncStream<MessageView>)
        do {
            let p = try params(GroupRefParams.self, line)
            subscription = try await follow(group: p.group)
        } catch let body as ControlErrorBody {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: body))))
            return
        }
        let (followerID, stream) = subscription
        struct Following: Codable, Sendable { var following: Bool }
        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(Response(id: head.id, result: Following(following: true)))))
        // A client closing its end (EOF closes the channel) ends the subscription.
        channel.closeFuture.whenComplete { _ in Task { await self.unfollow(followerID) } }
        for await view in stream {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(EventLine(event: "message", data: view))))
        }
        await unfollow(followerID)
    }

    /// `watch`: the response (`{"watching": true}`), then one event line per thing that happens,
    /// until the client closes or the daemon stops.
    nonisolated func streamWatch(head: RequestHead, line: [UInt8], channel: any Channel,
                                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let subscription: (Int, AsyncStream<WatchEvent>)
        do {
            let p = try params(WatchParams.self, line)
            subscription = try await watch(group: p.group)
        } catch {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: error))))
            return
        }
        let (watcherID, stream) = subscription
        struct Watching: Codable, Sendable { var watching: Bool }
        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(Response(id: head.id, result: Watching(watching: true)))))
        channel.closeFuture.whenComplete { _ in Task { await self.unwatch(watcherID) } }
        // Who is online right now, so a watcher need not wait for a change.
        for view in await currentPresence() {
            try await outbound.write(ByteBuffer(bytes: try WatchEvent.presence(view).line()))
        }
        for await event in stream {
            try await outbound.write(ByteBuffer(bytes: try event.line()))
        }
        await unwatch(watcherID)
    }
}
