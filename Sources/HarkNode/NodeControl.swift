#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkControl
import HarkControlNIO
import HarkCrypto
import HarkStore
import Logging
import NIOCore
import NIOPosix
import Synchronization

typealias ControlChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// The node's version, reported by `status`.
public let harkVersion = "0.1.0"

extension Node {
    /// Takes the home's lock (waiting for a short-lived node to hand the home over, up to
    /// `configuration.lockWaitMs`) and binds the control socket with mode 0600. Each client is
    /// served by a task of `controlClientTasks`, started as soon as its channel is set up.
    /// - Throws: `NodeError.alreadyRunning` when another node holds the lock; `.bindFailed`.
    func bindControlSocket() async throws -> any Channel {
        homeLock = try await takeHomeLock()
        // The lock stays held until run() ends.
        let path = configuration.controlSocketPath ?? home.socketLinkPath
        guard path.utf8.count < 104 else {
            throw NodeError.bindFailed(what: path, why: "path too long for a Unix socket (max 103 bytes); set XDG_RUNTIME_DIR to put it there")
        }
        unlink(home.socketLinkPath)   // safe: we hold the daemon lock, so no live daemon owns it
        unlink(path)
        if path != home.socketLinkPath {
            let dir = String(path[..<path.lastIndex(of: "/")!])
            mkdir(dir, 0o700)
            var st = stat()
            guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid(), st.st_mode & 0o077 == 0 else {
                throw NodeError.bindFailed(what: path, why: "\(dir) must be a directory of this user with mode 0700")
            }
        }
        let oldMask = umask(0o177)
        defer { umask(oldMask) }
        let clients = controlClientTasks
        // One event loop accepts and serves every control connection: an accepted channel
        // handed to another loop costs a thread wake-up before its first read, on the path of
        // every CLI call. The loop only moves bytes; requests run in tasks.
        let loop = eventLoopGroup.next()
        do {
            let server = try await ServerBootstrap(group: loop, childGroup: loop)
                // A client may send its request and shut down its side (`echo … | socat`): keep
                // answering until the response is written.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(NewlineDelimitedDecoder()))
                        let client = try ControlChannel(wrappingChannelSynchronously: child)
                        clients.start { await self.serveControlClient(client) }
                    }
                }
                .bind(unixDomainSocketPath: path).get()
            chmod(path, 0o600)
            if path != home.socketLinkPath, symlink(path, home.socketLinkPath) != 0 {
                let why = String(cString: strerror(errno))
                try? await server.close()
                unlink(path)
                throw NodeError.bindFailed(what: home.socketLinkPath, why: "cannot link it to \(path): \(why)")
            }
            return server
        } catch {
            throw NodeError.bindFailed(what: path, why: "\(error)")
        }
    }

    /// Takes the home's lock. Held by a short-lived node (`hark send`): asks it to hand the home
    /// over (a `handover` request, every 500 ms) and retries every 100 ms, up to
    /// `configuration.lockWaitMs`. Held by a daemon, or by an unknown holder: fails at once.
    /// - Throws: `NodeError.alreadyRunning` (naming the holder), `.bindFailed`.
    func takeHomeLock() async throws -> HomeLock {
        let start = Node.monotonicMs()
        var lastAsk: Int64 = -1_000
        var logged = false
        while true {
            if let lock = try HomeLock.tryAcquire(path: home.lockPath, role: configuration.role) { return lock }
            let holder = HomeLock.holder(path: home.lockPath)
            let waited = Node.monotonicMs() - start
            guard holder?.role == .send, waited < configuration.lockWaitMs else {
                throw NodeError.alreadyRunning(home: home.path, holder: holder, waitedMs: waited)
            }
            if !logged, let holder {
                logger.notice("waiting for the node of a hark send to hand the home over", metadata: [
                    "pid": "\(holder.pid)", "wait.max.ms": "\(configuration.lockWaitMs)",
                ])
                logged = true
            }
            if Node.monotonicMs() - lastAsk >= 500 {
                lastAsk = Node.monotonicMs()
                Task.detached { self.askHandover() }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Sends one `handover` request to whatever node serves the home's control socket (bounded
    /// by 500 ms; errors ignored: the lock is what counts).
    nonisolated func askHandover() {
        guard let client = try? ControlClient(socketPath: home.socketPath, timeoutMs: 500) else { return }
        struct NoParams: Codable, Sendable {}
        _ = try? client.call("handover", NoParams())
    }

    /// Serves one accepted control client; one accepted while the node stops is closed unanswered.
    nonisolated func serveControlClient(_ client: ControlChannel) async {
        let stopping = await stopped
        if Task.isCancelled || stopping {
            try? await client.executeThenClose { _, _ in }
            return
        }
        await serveControl(client)
    }

    /// Serves one control connection. Once a request has been in progress, or a stream open, for
    /// `ControlClient.keepaliveIntervalMs` (1000 ms), a `{"event":"keepalive"}` line goes out
    /// every interval (checked every 250 ms),
    /// so a client can bound every wait and still tell a slow answer from a daemon that stopped
    /// (CONTROL.md "Timeouts and keepalive").
    nonisolated func serveControl(_ client: ControlChannel) async {
        controlClients.add(1, ordering: .relaxed)
        defer { controlClients.subtract(1, ordering: .relaxed) }
        do {
            try await client.executeThenClose { inbound, outbound in
                // Since when (monotonic ms) a request or stream has been in progress; nil: idle.
                // A reply within the first interval is never preceded by a keepalive.
                let busySince = Mutex<Int64?>(nil)
                let keepalive = Task {
                    let line = ByteBuffer(bytes: Array("{\"event\":\"\(ControlClient.keepaliveEvent)\"}\n".utf8))
                    let interval = Int64(ControlClient.keepaliveIntervalMs)
                    var lastSent: Int64 = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(interval / 4))
                        if Task.isCancelled { break }
                        let now = Node.monotonicMs()
                        guard let since = busySince.withLock({ $0 }), now - since >= interval, now - lastSent >= interval else { continue }
                        lastSent = now
                        do { try await outbound.write(line) } catch { break }
                    }
                }
                defer { keepalive.cancel() }
                var iterator = inbound.makeAsyncIterator()
                while var line = try await iterator.next() {
                    busySince.withLock { $0 = Node.monotonicMs() }
                    defer { busySince.withLock { $0 = nil } }
                    let bytes = line.readBytes(length: line.readableBytes) ?? []
                    let head: RequestHead
                    do { head = try ControlCoding.decode(RequestHead.self, from: bytes) } catch {
                        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(
                            id: nil, error: ControlErrorBody(code: .badRequest, message: "request is not a JSON object with id and method")))))
                        continue
                    }
                    if head.method == "log.follow" {
                        try await self.streamFollow(head: head, line: bytes, channel: client.channel, outbound: outbound)
                        return
                    }
                    if head.method == "fetch" {
                        try await self.streamFetch(head: head, line: bytes, channel: client.channel, outbound: outbound)
                        return
                    }
                    if ReadService.methods.contains(head.method) {
                        // Off the actor: a slow read holds up nothing else (ReadService.swift).
                        try await outbound.write(ByteBuffer(bytes: await self.answerRead(head: head, line: bytes)))
                        continue
                    }
                    if head.method == "share" {
                        try await outbound.write(ByteBuffer(bytes: await self.dispatchFiles(head: head, line: bytes)))
                        continue
                    }
                    if head.method == "watch" {
                        try await self.streamWatch(head: head, line: bytes, channel: client.channel, outbound: outbound)
                        return
                    }
                    let reply = await self.dispatch(head: head, line: bytes)
                    try await outbound.write(ByteBuffer(bytes: reply))
                }
            }
        } catch {
            logger.debug("control client ended", metadata: ["error": "\(error)"])
        }
    }

    nonisolated func params<P: Codable & Sendable>(_ type: P.Type, _ line: [UInt8]) throws(ControlErrorBody) -> P {
        do { return try ControlCoding.decode(RequestParams<P>.self, from: line).params } catch {
            throw ControlErrorBody(code: .badRequest, message: "bad params for this method: \(error)")
        }
    }

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

    /// `handover`: a daemon starting on this home asks the short-lived node of a `hark send` to
    /// stop, so that it can take the home. The node answers, then stops as on cancellation:
    /// requests in progress are answered, every client is closed (a `hark send` re-attaches to
    /// the daemon), and the lock is released. A daemon refuses (`unavailable`).
    func handOver() throws(ControlErrorBody) -> HandoverResult {
        guard configuration.role == .send else {
            throw ControlErrorBody(code: .unavailable, message: "a hark daemon does not hand its home over; stop it first")
        }
        logger.notice("handing the home over to a starting daemon")
        requestStop()
        return HandoverResult(stopping: true, pid: Int(getpid()))
    }

    func currentPresence() -> [PresenceView] {
        lastPresence.values.sorted { $0.peerId < $1.peerId }
    }

    func status() -> StatusResult {
        var s = StatusResult(peerId: peerID.description, fingerprint: peerID.fingerprint, displayName: identity.displayName,
                             tcpPort: listenPort, discovery: discoveryStatus, connectedPeers: sessions.count,
                             groups: (try? store.allGroups().count) ?? 0, home: home.path, version: harkVersion,
                             pid: Int(getpid()), staticPeers: configuration.staticPeers)
        s.udpPort = udpPort
        s.role = configuration.role.rawValue
        s.presence = ownPresence.state == .away ? "away" : "online"
        var d = DatagramCountersView()
        d.sent = datagramCounters.sent
        d.accepted = datagramCounters.accepted
        d.replayed = datagramCounters.replayed
        d.unknownKey = datagramCounters.unknownKey
        d.authenticationFailed = datagramCounters.authenticationFailed
        d.malformed = datagramCounters.malformed
        s.datagrams = d
        s.files = files.counters.withLock { $0 }
        let me = identity.signing.publicKey
        s.unread = ((try? store.allGroups()) ?? []).reduce(0) { $0 + ((try? store.unreadCount(group: $1.id, reader: me)) ?? 0) }
        s.files.activeFetches = files.allJobs.count
        return s
    }

    func peers() -> [PeerView] {
        var out: [PeerView] = []
        let forked = equivocators()
        for (id, info) in peerInfo {
            let session = sessions.values.first { $0.peerID == id }
            out.append(PeerView(peerId: id.description, fingerprint: id.fingerprint, displayName: info.displayName,
                                connected: session != nil, address: session?.remoteAddress ?? info.address,
                                direction: session?.direction.rawValue, source: session?.source ?? info.source,
                                lastSeenMs: session != nil ? Node.nowMs() : info.lastSeenMs,
                                equivocated: forked.contains(id.key), listenPort: info.listenPort))
            let presence = presenceView(of: id)
            out[out.count - 1].presence = presence.state
            out[out.count - 1].statusText = presence.statusText
            out[out.count - 1].verified = isVerified(id.key)
            out[out.count - 1].warning = trustWarning(for: id.key)
            out[out.count - 1].alias = alias(of: id.key)
            out[out.count - 1].blocked = isBlocked(id.key)
        }
        // Keys the user aliased or blocked stay listed while they are away.
        let records = Dictionary(((try? store.peers()) ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for (key, local) in trustCache().local where peerInfo[PeerID(key)] == nil {
            let id = PeerID(key)
            let rec = records[key]
            var v = PeerView(peerId: id.description, fingerprint: id.fingerprint, displayName: rec?.displayName ?? displayName(of: key),
                             connected: false, address: rec?.lastAddress, direction: nil, source: nil, lastSeenMs: rec?.lastSeenMs ?? 0)
            v.verified = isVerified(key)
            v.warning = trustWarning(for: key)
            v.alias = local.alias
            v.blocked = local.blockedMs != nil
            out.append(v)
        }
        return out.sorted { ($0.connected ? 0 : 1, $0.displayName, $0.peerId) < ($1.connected ? 0 : 1, $1.displayName, $1.peerId) }
    }
}
