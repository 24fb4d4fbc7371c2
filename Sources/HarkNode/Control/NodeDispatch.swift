// The control methods: `controlRoutes` registers one handler per `ControlMethods` descriptor;
// `dispatch` runs the ones served on the actor; `share` and the streams (`log.follow`, `watch`,
// here; `fetch`, NodeFetches.swift) run outside it (hashing files; event lines). No state of its own.

import Foundation
import HarkControl
import HarkStore
import Logging
import NIOCore

extension Node {
    /// Every control method the node serves, by name: one typed registration per
    /// `ControlMethods` descriptor (docs/CONTROL.md §Methods).
    static let controlRoutes: [String: ControlRoute] = {
        var t = ControlRouteTable()
        t.actor(ControlMethods.status) { n, _ in n.status() }
        t.actor(ControlMethods.handover) { n, _ in try n.handOver() }
        t.actor(ControlMethods.peers) { n, _ in n.peers() }

        // Groups.
        t.actor(ControlMethods.groupCreate) { n, p in try n.createGroup(name: p.name, kind: p.kind, history: p.history) }
        t.actor(ControlMethods.groupInvite) { n, p in try n.invite(group: p.group, forPeer: p.forPeer, expiresMs: p.expiresMs, uses: p.uses) }
        t.actor(ControlMethods.groupJoinStatus) { n, p in try n.joinStatus(group: p.group) }
        t.actor(ControlMethods.groupInvites) { n, _ in n.invitesOffered() }
        t.actor(ControlMethods.groupAccept) { n, p in try n.acceptInvite(p.group) }
        t.actor(ControlMethods.groupRemove) { n, p in try n.changeMember(group: p.group, peer: p.peer, action: .remove, role: nil) }
        t.actor(ControlMethods.groupRole) { n, p in try n.changeMember(group: p.group, peer: p.peer, action: .role, role: p.role) }
        t.actor(ControlMethods.groupLeave) { n, p in try n.changeMember(group: p.group, peer: nil, action: .leave, role: nil) }
        t.actor(ControlMethods.groupJoin) { n, p in try n.join(token: p.token) }
        t.actor(ControlMethods.groupRequest) { n, p in try n.requestJoin(group: p.group, admin: p.admin) }
        t.actor(ControlMethods.groupRequestStatus) { n, p in try n.joinRequestStatus(group: p.group) }
        t.actor(ControlMethods.groupRequests) { n, p in try n.joinRequests(group: p.group) }
        t.actor(ControlMethods.groupApprove) { n, p in try n.decideJoinRequest(group: p.group, request: p.request, approve: true) }
        t.actor(ControlMethods.groupRefuse) { n, p in try n.decideJoinRequest(group: p.group, request: p.request, approve: false) }
        t.read(ControlMethods.groupList) { n, _ in try n.store.allGroups().map(n.groupView) }

        // Messages and history.
        t.actor(ControlMethods.send) { n, p in
            try n.sendMessage(group: p.group, text: p.text, replyTo: p.replyTo, resolveMentions: p.mentions ?? true)
        }
        t.read(ControlMethods.search) { n, p in try n.search(p) }
        t.read(ControlMethods.log) { n, p in try n.log(group: p.group, limit: p.limit, before: p.before, after: p.after, files: p.files ?? false) }
        t.stream(ControlMethods.logFollow) { n, head, p, channel, outbound in
            try await n.streamFollow(head: head, params: p, channel: channel, outbound: outbound)
        }
        t.read(ControlMethods.logIds) { n, p in try n.eventIDs(group: p.group) }
        t.read(ControlMethods.logGraph) { n, p in try n.graphRows(group: p.group) }
        t.actor(ControlMethods.edit) { n, p in try n.edit(group: p.group, message: p.message, text: p.text) }
        t.actor(ControlMethods.delete) { n, p in
            _ = try n.delete(group: p.group, message: p.message)
            return DeleteResult(deleted: true)
        }
        t.actor(ControlMethods.react) { n, p in try n.react(group: p.group, message: p.message, emoji: p.emoji, remove: p.remove) }
        t.read(ControlMethods.export) { n, p in try n.exportEvents(group: p.group) }
        t.actor(ControlMethods.import) { n, p in try n.importEvents(p.events) }
        t.read(ControlMethods.audit) { n, p in try n.verify(group: p.group) }
        t.read(ControlMethods.verify) { n, p in try n.verify(group: p.group) }

        // Presence, typing, read markers and receipts.
        t.actor(ControlMethods.presenceSet) { n, p in try n.setPresence(state: p.state, statusText: p.statusText) }
        t.actor(ControlMethods.typing) { n, p in
            try n.sendTyping(group: p.group, active: p.active)
            return TypingResult(sent: true)
        }
        t.actor(ControlMethods.read) { n, p in try n.markRead(group: p.group, through: p.through) }
        t.read(ControlMethods.receipts) { n, p in try n.receipts(group: p.group, message: p.message) }
        t.detached(ControlMethods.receiptsWait) { n, p in
            try await n.waitForReceipts(group: p.group, message: p.message, goal: p.goal, timeoutMs: p.timeoutMs)
        }
        t.stream(ControlMethods.watch) { n, head, p, channel, outbound in
            try await n.streamWatch(head: head, params: p, channel: channel, outbound: outbound)
        }

        // Trust (NodeTrust.swift) and the user's decisions about keys (NodePeerNames.swift).
        t.actor(ControlMethods.safetyNumber) { n, p in try n.safetyNumber(peer: p.peer) }
        t.actor(ControlMethods.pairStart) { n, p in try n.startPairing(peer: p.peer) }
        t.actor(ControlMethods.pairStatus) { n, p in try n.pairingStatus(peer: p.peer) }
        t.actor(ControlMethods.pairList) { n, _ in n.listPairings() }
        t.actor(ControlMethods.pairConfirm) { n, p in try n.confirmPairing(peer: p.peer, code: p.code) }
        t.actor(ControlMethods.pairReject) { n, p in try n.rejectPairing(peer: p.peer) }
        t.actor(ControlMethods.peerAlias) { n, p in try n.setPeerAlias(peer: p.peer, alias: p.alias) }
        t.actor(ControlMethods.peerBlock) { n, p in try n.setPeerBlocked(peer: p.peer, blocked: true) }
        t.actor(ControlMethods.peerUnblock) { n, p in try n.setPeerBlocked(peer: p.peer, blocked: false) }
        t.actor(ControlMethods.peerForget) { n, p in try n.forgetPeer(peer: p.peer) }

        // Files. `share` hashes files off the actor; `files` asks the peers first (ReadService.swift).
        t.detached(ControlMethods.share) { n, p in try await n.share(p) }
        // No channel is open on a reader, so no peer is asked here: the stored offers as they are.
        t.read(ControlMethods.files) { n, p in try n.offerViews(group: p.group) }
        t.stream(ControlMethods.fetch) { n, head, p, channel, outbound in
            try await n.streamFetch(head: head, params: p, channel: channel, outbound: outbound)
        }
        t.actor(ControlMethods.testOfferRaw) { n, p in try n.offerRaw(p) }
        return t.routes
    }()

    /// Runs one request on the actor (an `actor` or `read` route); returns the response line.
    /// Any other name, served elsewhere or unknown, is answered `unknown_method`.
    func dispatch(head: RequestHead, line: [UInt8]) -> [UInt8] {
        do {
            switch Node.controlRoutes[head.method] {
            case .actor(let handler)?, .read(let handler)?:
                return try handler(self, head, line)
            default:
                throw ControlErrorBody(code: .unknownMethod, message: "unknown method \"\(head.method)\"")
            }
        } catch {
            return errorLine(head: head, error)
        }
    }

    /// Runs one request of a `detached` route off the actor; returns the response line.
    /// A request cancelled because the node stops (a `receipts.wait` in progress) gets no
    /// answer (nothing is written): the connection closes, and the client waits again on
    /// whatever serves the home next.
    nonisolated func dispatchDetached(_ handler: ControlRoute.DetachedHandler, head: RequestHead, line: [UInt8]) async -> [UInt8] {
        do { return try await handler(self, head, line) } catch is CancellationError { return [] } catch { return errorLine(head: head, error) }
    }

    /// The error line answering `head`: a `ControlErrorBody` as thrown; anything else logged and
    /// answered `storage` (a `StoreError`) or `internal`.
    nonisolated func errorLine(head: RequestHead, _ error: any Error) -> [UInt8] {
        if !(error is ControlErrorBody) {
            logger.error("control request failed", metadata: ["method": "\(head.method)", "error": "\(error)"])
        }
        return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: Self.controlError(error)))) ?? []
    }

    /// `log.follow`: the response (`{"following": true}`), then one event line per new message in
    /// the group, until the client closes or the daemon stops.
    nonisolated func streamFollow(head: RequestHead, params p: GroupRefParams, channel: any Channel,
                                  outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let subscription: (Int, AsyncStream<MessageView>)
        do {
            subscription = try await follow(group: p.group)
        } catch let body as ControlErrorBody {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: body))))
            return
        }
        let (followerID, stream) = subscription
        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(Response(id: head.id, result: FollowResult(following: true)))))
        // A client closing its end (EOF closes the channel) ends the subscription.
        channel.closeFuture.whenComplete { _ in Task { await self.unfollow(followerID) } }
        for await view in stream {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(EventLine(event: "message", data: view))))
        }
        await unfollow(followerID)
    }

    /// `watch`: the response (`{"watching": true}`), then one event line per thing that happens,
    /// until the client closes or the daemon stops.
    nonisolated func streamWatch(head: RequestHead, params p: WatchParams, channel: any Channel,
                                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let subscription: (Int, AsyncStream<WatchEvent>)
        do {
            subscription = try await watch(group: p.group)
        } catch {
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: error))))
            return
        }
        let (watcherID, stream) = subscription
        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(Response(id: head.id, result: WatchResult(watching: true)))))
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
