// One fetch in progress (`FetchJob`): owns its scheduler, the chunks being assembled from
// ChunkData slices, the peers asked, and the progress events sent to its control client
// (`FetchEvent`). An actor; its held-chunk bitmap is also readable from any thread (Mutex).

import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkLog
import HarkWireProto
import Logging
import NIOCore
import Synchronization

/// Events a fetch streams to its control client.
enum FetchEvent: Sendable {
    case progress(FetchProgress)
    case done(FetchDone)
    case failed(ControlErrorBody)
}

/// One fetch in progress: the scheduler, the chunks being received, the peers asked. Chunk data
/// arrives here from channel readers; completed chunks go to the FetchWriter.
actor FetchJob {
    nonisolated let manifestID: ManifestID
    nonisolated let manifestChunkCount: Int
    /// The group the file was offered in.
    nonisolated let group: EventID
    /// The verified chunks so far (manifest-wide), readable from any thread: what this node
    /// answers about the file while the fetch runs, and serves to other fetchers.
    nonisolated let heldSnapshot: Mutex<ChunkBitmap>
    /// Tells the group's peers what this fetch holds now (a `Have` with the bitmap), at most
    /// once a second while new chunks come in.
    let announce: @Sendable (ChunkBitmap) async -> Void
    private var announcedCount = 0
    private var lastAnnounceMs: Int64 = 0
    let manifest: Manifest
    let fileKey: [UInt8]
    let directory: String
    let writer: FetchWriter
    let transfers: FileTransfers
    let events: AsyncStream<FetchEvent>.Continuation?
    let logger: Logger
    /// Called once the files are in place (stores the sources, announces Have).
    let onComplete: @Sendable ([String]) async -> Void
    private var scheduler: FetchScheduler<UInt64>
    private var sessions: [UInt64: PeerSession] = [:]
    private var delivered: [UInt64: Int] = [:]
    private var assembling: [Int: Assembly] = [:]
    private var finished = false
    private var committing = false
    private var corrupt = 0
    private var fetched = 0
    private var lastProgress: FetchProgress?

    /// A chunk being received from one peer: its slices as they arrived (still sealed), in order.
    struct Assembly {
        let session: UInt64
        let length: Int
        /// Plaintext bytes announced by the slices so far.
        var filled = 0
        var slices: [SealedPiece] = []

        init(session: UInt64, length: Int) {
            self.session = session
            self.length = length
        }
    }

    /// One sealed slice of a chunk, opened only once the whole chunk is in.
    struct SealedPiece: Sendable {
        let offset: Int
        let cipher: BulkCipher
        let nonce: [UInt8]
        let sealed: ByteBuffer
    }

    /// Opens every slice of a chunk into one page-aligned buffer and hashes it, on a
    /// low-priority bulk thread; nil when a slice does not open under the file key. Each slice
    /// is hashed right after it is opened, while it is still in the CPU's cache.
    static func openAndHash(_ pieces: [SealedPiece], length: Int, chunk: Int, manifestID: ManifestID,
                            fileKey: [UInt8], hashAlgorithm: FileHashAlgorithm) -> HashedChunk? {
        FileTransfers.lowerThreadPriority()
        let buffer = ChunkBuffer(count: length)
        let hasher = MerkleTree.chunkHasher(hashAlgorithm)
        for p in pieces {
            let ad = FileCrypto.chunkAD(manifestID.bytes, chunk: UInt32(chunk), offset: UInt32(p.offset))
            let region = buffer.region(p.offset, p.sealed.readableBytes - BulkAEAD.tagByteCount)
            let opened: Bool = p.sealed.withUnsafeReadableBytes { sealed in
                (try? BulkAEAD.open(sealed, cipher: p.cipher, key: fileKey, nonce: p.nonce, associatedData: ad, into: region)) != nil
            }
            guard opened else { return nil }
            hasher.update(UnsafeRawBufferPointer(region))
        }
        return HashedChunk(buffer, hash: hasher.finalize())
    }

    init(manifest: Manifest, group: EventID, fileKey: [UInt8], directory: String, writer: FetchWriter, held: ChunkBitmap,
         waitMs: Int64, limitRate: Int64? = nil, transfers: FileTransfers, events: AsyncStream<FetchEvent>.Continuation?,
         logger: Logger, announce: @escaping @Sendable (ChunkBitmap) async -> Void = { _ in },
         onComplete: @escaping @Sendable ([String]) async -> Void) {
        self.manifestID = manifest.id
        self.manifestChunkCount = manifest.chunkCount
        self.group = group
        self.heldSnapshot = Mutex(held)
        self.announce = announce
        self.announcedCount = held.setCount
        self.manifest = manifest
        self.fileKey = fileKey
        self.directory = directory
        self.writer = writer
        self.transfers = transfers
        self.events = events
        self.logger = logger
        self.onComplete = onComplete
        let chunk = manifest.entries.map(\.chunkSize).max() ?? FileLimits.minChunkSize
        let inFlight = max(2, min(16, (16 << 20) / chunk))
        var configuration = FetchScheduler<UInt64>.Configuration(maxInFlightPerPeer: inFlight, waitForSourcesMs: waitMs,
                                                                 maxBytesPerSecond: limitRate)
        // Each fetch starts at a random chunk, so that fetchers of one file hold different
        // chunks early and can serve each other (PROTOCOL.md §9.4).
        if manifest.chunkCount > 0 { configuration.startChunk = Int.random(in: 0..<manifest.chunkCount) }
        scheduler = FetchScheduler(layout: manifest.layout, alreadyHave: held, configuration: configuration)
    }

    static func nowMs() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Starts the tick (timeouts, progress, paced requests: every 250 ms, or sooner when the
    /// scheduler's next deadline — a rate-limited request — is nearer, at most every 10 ms)
    /// and the first requests.
    func start() {
        Task { [self] in
            // The task runs on this actor (it inherits its isolation): no hop to reach it.
            while !self.isFinished {
                try? await Task.sleep(for: .milliseconds(self.nextTickMs()))
                self.tick()
            }
        }
        pump()
    }

    private func nextTickMs() -> Int64 {
        guard let deadline = scheduler.nextDeadlineMs() else { return 250 }
        return min(250, max(10, deadline - Self.nowMs()))
    }

    var isFinished: Bool { finished }

    func tick() {
        guard !finished else { return }
        pump()
        emitProgress()
        let now = Self.nowMs()
        let held = heldSnapshot.withLock { $0 }
        if held.setCount > announcedCount, now - lastAnnounceMs >= 1000, !held.isFull {
            announcedCount = held.setCount
            lastAnnounceMs = now
            Task { await announce(held) }
        }
    }

    private var lastProgressMs: Int64 = 0

    /// A progress event, at most 4 times a second (ticks come faster under a rate limit).
    private func emitProgress(force: Bool = false) {
        let now = Self.nowMs()
        guard force || now - lastProgressMs >= 250 else { return }
        lastProgressMs = now
        let p = scheduler.progress
        let view = FetchProgress(fileId: manifestID.hex, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal,
                                 chunksDone: p.chunksDone, chunksTotal: p.chunksTotal, inFlight: p.inFlight, peers: p.activePeers)
        if view != lastProgress { events?.yield(.progress(view)); lastProgress = view }
    }

    func addPeer(_ session: PeerSession, holding: FetchScheduler<UInt64>.Holding) {
        guard !finished else { return }
        sessions[session.id] = session
        scheduler.addPeer(session.id, holding: holding)
        pump()
    }

    func removePeer(_ sessionID: UInt64) {
        guard !finished else { return }
        scheduler.removePeer(sessionID)
        assembling = assembling.filter { $0.value.session != sessionID }
        pump()
    }

    func refused(_ sessionID: UInt64, chunk: Int, reason: Hark_V1_RefuseReason) {
        guard !finished else { return }
        if reason == .sourceChanged {
            logger.info("a peer's file changed since the offer; not asking it again", metadata: ["manifest.id": "\(manifestID)"])
            scheduler.sourceChanged(sessionID)
        } else {
            scheduler.removePeer(sessionID)
        }
        assembling = assembling.filter { $0.value.session != sessionID }
        pump()
    }

    /// One slice of a chunk: its header and sealed bytes. Slices of chunks not asked of this
    /// session are dropped (late answers after a timeout). Where the slice goes is checked here;
    /// opening and hashing wait until the chunk is whole and run on a bulk thread.
    func receive(_ d: Hark_V1_ChunkData, sealed: ByteBuffer, from session: PeerSession) throws {
        guard !finished else { return }
        let chunk = Int(d.chunk)
        guard chunk < manifest.chunkCount else { throw ProtocolViolation("chunk \(chunk) of a manifest with \(manifest.chunkCount)") }
        guard var a = assembling[chunk], a.session == session.id else { return }
        let cipher: BulkCipher
        switch d.cipher {
        case .xchacha20Poly1305: cipher = .xchacha20Poly1305
        case .aes256Gcm where FileCrypto.offerAES256GCM: cipher = .aes256GCM
        case .chacha20Poly1305 where FileCrypto.offerChaCha20Poly1305: cipher = .chacha20Poly1305
        default:
            markCorrupt(session.id, chunk: chunk, why: "slice sealed with a cipher not offered (\(d.cipher))")
            return
        }
        guard d.nonce.count == cipher.nonceByteCount else {
            markCorrupt(session.id, chunk: chunk, why: "\(cipher) slice with a nonce of \(d.nonce.count) bytes")
            return
        }
        let count = sealed.readableBytes - BulkAEAD.tagByteCount
        guard Int(d.offset) == a.filled, count > 0, a.filled + count <= a.length,
              count <= FileWireLimits.chunkSliceBytes else {
            markCorrupt(session.id, chunk: chunk, why: "slice at \(d.offset) of \(count) bytes out of order")
            return
        }
        a.slices.append(SealedPiece(offset: a.filled, cipher: cipher, nonce: [UInt8](d.nonce), sealed: sealed))
        a.filled += count
        guard a.filled == a.length else {
            assembling[chunk] = a
            return
        }
        assembling[chunk] = nil
        let sessionID = session.id
        let (pieces, length, id, key, pool) = (a.slices, a.length, manifestID, fileKey, transfers.bulkPool)
        let algorithm = manifest.hashAlgorithm
        Task { [writer] in
            let hashed = try? await pool.runIfActive { Self.openAndHash(pieces, length: length, chunk: chunk, manifestID: id, fileKey: key,
                                                                              hashAlgorithm: algorithm) }
            guard let hashed else {
                await self.written(chunk, by: sessionID, .corrupt("a slice does not decrypt under the file key"))
                return
            }
            let result = await writer.write(global: chunk, hashed: hashed)
            await self.written(chunk, by: sessionID, result)
        }
    }

    private func markCorrupt(_ sessionID: UInt64, chunk: Int, why: String) {
        corrupt += 1
        transfers.counters.withLock { $0.corruptChunks += 1 }
        logger.warning("corrupt chunk; dropping the peer for this fetch", metadata: [
            "manifest.id": "\(manifestID)", "chunk": "\(chunk)", "peer": "\(sessions[sessionID]?.peerID.description ?? "?")", "reason": "\(why)",
        ])
        scheduler.corrupt(sessionID, chunk: chunk)
        assembling = assembling.filter { $0.value.session != sessionID }
        pump()
    }

    func written(_ chunk: Int, by sessionID: UInt64, _ result: FetchWriter.WriteResult) async {
        guard !finished else { return }
        switch result {
        case .written:
            if scheduler.delivered(sessionID, chunk: chunk) {
                fetched += 1
                delivered[sessionID, default: 0] += 1
                transfers.counters.withLock { $0.chunksFetched += 1 }
                heldSnapshot.withLock { _ = $0.insert(chunk) }
            }
        case let .corrupt(why):
            markCorrupt(sessionID, chunk: chunk, why: why)
            return
        case let .failed(error):
            await fail(ControlErrorBody(code: .ioError, message: "\(error)"))
            return
        }
        pump()
    }

    private func pump() {
        guard !finished, !committing else { return }
        let now = Self.nowMs()
        for r in scheduler.poll(nowMs: now) {
            guard let s = sessions[r.peer] else { continue }
            assembling[r.chunk] = Assembly(session: r.peer, length: manifest.layout.length(of: r.chunk))
            var q = Hark_V1_ChunkRequest()
            q.manifestID = Data(manifestID.bytes)
            q.chunk = UInt32(r.chunk)
            q.aes256Gcm = FileCrypto.offerAES256GCM
            q.chacha20Poly1305 = FileCrypto.offerChaCha20Poly1305
            q.groupID = Data(group.bytes)
            var f = Hark_V1_Frame()
            f.chunkRequest = q
            s.send(f)
        }
        switch scheduler.status {
        case .complete:
            committing = true
            Task { await self.complete() }
        case let .failed(why):
            Task {
                switch why {
                case let .sourceChanged(missing):
                    // No resume can finish it: the staged chunks go (they would stay forever).
                    await self.fail(ControlErrorBody(code: .badManifest, message:
                        "the sender's file changed after the offer (\(missing) chunks missing); the partial download was removed; ask for a new offer"),
                        discardingStaged: true)
                case let .noSources(missing):
                    await self.fail(ControlErrorBody(code: .unavailable, message:
                        "no online peer can serve the \(missing) missing chunks; run the fetch again later to resume"))
                }
            }
        case .running, .waiting:
            break
        }
    }

    func peerViews() -> [FetchPeerView] {
        sessions.values.sorted { $0.id < $1.id }.map { s in
            let dropped: String?
            switch scheduler.dropReason(s.id) {
            case .corrupt?: dropped = "corrupt"
            case .sourceChanged?: dropped = "source_changed"
            case .unresponsive?: dropped = "unresponsive"
            case .departed?: dropped = "departed"
            case nil: dropped = nil
            }
            return FetchPeerView(peerId: s.peerID.description, displayName: s.hello.displayName, chunks: delivered[s.id] ?? 0, dropped: dropped)
        }
    }

    private func complete() async {
        emitProgress(force: true)
        let committed: FetchWriter.Committed
        do { committed = try await writer.commitAll() } catch {
            let code: ControlErrorCode
            var message = "\(error)"
            switch error {
            case .alreadyExists, .unsafeTarget: code = .targetExists
            case .chunkHashMismatch:
                // Something else wrote to a part file during the fetch: the damaged chunk is
                // dropped (never committed, never served); the next fetch fetches it again.
                code = .ioError
                message = "a part file changed on disk during the fetch (\(error)); nothing was committed: fetch again to fetch the damaged chunks"
            default: code = .ioError
            }
            await fail(ControlErrorBody(code: code, message: message))
            return
        }
        finished = true
        transfers.unregister(manifestID)
        await onComplete(committed.paths)
        let resumed = await writer.resumed
        let zero = await writer.zero
        let done = FetchDone(fileId: manifestID.hex, directory: directory, paths: committed.paths, bytes: manifest.totalBytes,
                             chunksTotal: manifest.chunkCount, chunksFetched: fetched, chunksResumed: resumed, chunksZero: zero,
                             bytesHashed: committed.bytesHashed, bytesReadBack: committed.bytesReadBack, corruptChunks: corrupt,
                             peers: peerViews())
        logger.info("fetch complete", metadata: ["manifest.id": "\(manifestID)", "chunks.fetched": "\(fetched)",
                                                 "chunks.resumed": "\(resumed)", "chunks.zero": "\(zero)"])
        events?.yield(.done(done))
        events?.finish()
    }

    /// Ends the fetch without the files in place; the staged chunks stay for a resume, unless
    /// `discardingStaged` (no resume can finish it).
    func fail(_ error: ControlErrorBody, discardingStaged: Bool = false) async {
        guard !finished else { return }
        finished = true
        transfers.unregister(manifestID)
        if discardingStaged { await writer.discardAll() } else { await writer.flush() }
        logger.info("fetch stopped", metadata: ["manifest.id": "\(manifestID)", "reason": "\(error.message)"])
        events?.yield(.failed(error))
        events?.finish()
    }

    /// The client went away: stop, keep what was verified.
    func cancel() async {
        await fail(ControlErrorBody(code: .unavailable, message: "fetch interrupted"))
    }
}
