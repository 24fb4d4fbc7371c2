// The control socket: taking the home's lock (and asking a short-lived node to hand it over),
// binding the Unix socket, and serving each client connection with its keepalive lines.
// Node actor state (`homeLock`); the per-connection serving is nonisolated (a Mutex holds
// the busy mark its keepalive task reads).

import Foundation
import HarkControl
import HarkControlNIO
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

typealias ControlChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

extension Node {
    /// Takes the home's lock (waiting for a short-lived node to hand the home over, up to
    /// `configuration.lockWaitMs`) and binds the control socket with mode 0600. Each client is
    /// served by a task of `controlClientTasks`, started as soon as its channel is set up.
    /// - Throws: `NodeError.alreadyRunning` when another node holds the lock; `.bindFailed`.
    func bindControlSocket() async throws -> any Channel {
        lifecycle.homeLock = try await takeHomeLock()
        // The lock stays held until run() ends.
        let path = configuration.controlSocketPath ?? home.socketLinkPath
        guard path.utf8.count < 104 else {
            throw NodeError.bindFailed(what: path, why: "path too long for a Unix socket (max 103 bytes); set XDG_RUNTIME_DIR to put it there")
        }
        unlink(home.socketLinkPath)   // safe: we hold the daemon lock, so no live daemon owns it
        unlink(path)
        if path != home.socketLinkPath {
            // swift-format-ignore: NeverForceUnwrap
            // A socket path other than the home's is XDG_RUNTIME_DIR/hark/… (`daemonSocketPath`).
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
        _ = try? client.callIgnoringResult(ControlMethods.handover, NoParams())
    }

    /// Serves one accepted control client; one accepted while the node stops is closed unanswered.
    nonisolated func serveControlClient(_ client: ControlChannel) async {
        let stopping = await isStopping
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
        runtime.controlClients.add(1, ordering: .relaxed)
        defer { runtime.controlClients.subtract(1, ordering: .relaxed) }
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
                    switch Node.controlRoutes[head.method] {
                    case .stream(let serve)?:
                        try await serve(self, head, bytes, client.channel, outbound)
                        return
                    case .read?:
                        // Off the actor: a slow read holds up nothing else (ReadService.swift).
                        try await outbound.write(ByteBuffer(bytes: await self.answerRead(head: head, line: bytes)))
                    case .detached(let handler)?:
                        try await outbound.write(ByteBuffer(bytes: await self.dispatchDetached(handler, head: head, line: bytes)))
                    case .actor?, nil:
                        // On the actor; an unknown name is answered `unknown_method` there.
                        try await outbound.write(ByteBuffer(bytes: await self.dispatch(head: head, line: bytes)))
                    }
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
}
