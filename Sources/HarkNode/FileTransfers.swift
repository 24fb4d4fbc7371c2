#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkLog
import HarkProto
import Logging
import NIOPosix
import Synchronization

/// Wire limits of file transfer (PROTOCOL.md §11.6).
enum FileWireLimits {
    /// Largest slice of a chunk in one ChunkData frame.
    static let chunkSliceBytes = 256 * 1024
    /// Largest manifest slice asked for / sent in one ManifestData frame.
    static let manifestSliceBytes = 512 * 1024
    /// Chunk requests a server queues per channel; more are refused as BUSY.
    static let maxQueuedRequestsPerSession = 32
    /// A server adds the next chunk to a channel's bulk queue only below this many queued bytes.
    static let bulkQueueBytes = 4 << 20
    /// Names in a FileOffer, and bytes per name.
    static let maxOfferNames = 16
    static let maxOfferNameBytes = 255
    /// Manifest download: how long one peer may take.
    static let manifestTimeoutMs: Int64 = 10_000
}

/// The file key and the sealing of file bytes (PROTOCOL.md §11.2). Every slice of a manifest or
/// chunk is sealed with XChaCha20-Poly1305 under a key only group members can derive, with a
/// random nonce and associated data that binds it to its manifest, chunk and offset.
enum FileCrypto {
    static func key(groupKey: [UInt8], manifestID: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(manifestID, key: groupKey, personal: "hark.filekey.v1")
    }

    static func chunkAD(_ manifestID: [UInt8], chunk: UInt32, offset: UInt32) -> [UInt8] {
        Array("hark.c".utf8) + manifestID + le(UInt64(chunk), 4) + le(UInt64(offset), 4)
    }

    static func manifestAD(_ manifestID: [UInt8], offset: UInt64) -> [UInt8] {
        Array("hark.m".utf8) + manifestID + le(offset, 8)
    }

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
}

/// Test-only behaviour, enabled by environment variables that a normal run never sets
/// (documented in docs/PROTOCOL.md §11.7 as test hooks).
struct FileTestHooks: Sendable {
    /// HARK_TEST_CORRUPT_CHUNKS=1: flip a byte of every chunk served (a lying peer).
    let corruptServedChunks: Bool
    /// HARK_TEST_SERVE_DELAY_MS=N: wait N ms before serving each chunk (to interrupt a fetch mid-way).
    let serveDelayMs: Int
    /// HARK_TEST_RAW_OFFERS=1: enables the `test.offer_raw` control method (manifests with arbitrary names).
    let rawOffers: Bool

    static func fromEnvironment() -> FileTestHooks {
        let env = ProcessInfo.processInfo.environment
        return FileTestHooks(corruptServedChunks: env["HARK_TEST_CORRUPT_CHUNKS"] == "1",
                             serveDelayMs: Int(env["HARK_TEST_SERVE_DELAY_MS"] ?? "") ?? 0,
                             rawOffers: env["HARK_TEST_RAW_OFFERS"] == "1")
    }
}

/// What this node can serve of one manifest: the manifest and where its files are.
struct Servable: Sendable {
    let group: EventID
    let manifest: Manifest
    let source: ChunkSource?
    let fileKey: [UInt8]
}

/// Where the local copy of each entry is, as stored in `shared_file.sources` (JSON).
struct StoredSource: Codable, Sendable {
    var path: String
    var size: UInt64
    var mtimeS: Int64
    var mtimeNs: Int64
}

/// The node's file-transfer machinery that runs outside the node actor: the fetches in progress
/// (bulk ChunkData frames go to them straight from the channel readers) and, per channel, the
/// task that serves chunk requests. Thread-safe.
final class FileTransfers: Sendable {
    let hooks = FileTestHooks.fromEnvironment()
    let logger: Logger
    private let jobs = Mutex<[ManifestID: FetchJob]>([:])
    private let servers = Mutex<[UInt64: ServeQueue]>([:])
    let counters = Mutex<FileCountersView>(FileCountersView())

    struct ServeItem: Sendable {
        let chunk: Int
        let servable: Servable
    }

    struct ServeQueue: Sendable {
        let continuation: AsyncStream<ServeItem>.Continuation
        var queued: Int
    }

    /// Threads for the CPU-heavy part of serving (read, re-hash, seal), at a lower scheduling
    /// priority (nice +10) than the node's own threads, so chat and sync run first on a busy host.
    let bulkPool: NIOThreadPool = {
        let p = NIOThreadPool(numberOfThreads: 2)
        p.start()
        return p
    }()

    init(logger: Logger) { self.logger = logger }

    /// Lowers the calling thread's priority: on Linux, setpriority(PRIO_PROCESS, 0) sets the nice
    /// value of the calling thread only (setpriority(2), NOTES). Idempotent.
    static func lowerThreadPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    /// Reads and re-verifies a chunk and seals its slices, on a low-priority thread.
    static func prepareChunk(_ item: ServeItem, corrupt: Bool) -> Result<[(Hark_V1_Frame, Int)], FileError> {
        lowerThreadPriority()
        let m = item.servable.manifest
        guard let source = item.servable.source else { return .failure(.sourceChanged("not held")) }
        var data: [UInt8]
        do { data = try source.read(global: item.chunk) } catch { return .failure(error) }
        if corrupt, !data.isEmpty { data[data.count / 2] ^= 0x5A }
        var frames: [(Hark_V1_Frame, Int)] = []
        var offset = 0
        while offset < data.count {
            let end = min(offset + FileWireLimits.chunkSliceBytes, data.count)
            // Sealed straight from the chunk into the Data the frame keeps: no slice copy, no
            // nonce ‖ ciphertext concatenation, no [UInt8] → Data copy.
            let boxCount = end - offset + XChaChaPoly.nonceByteCount + XChaChaPoly.tagByteCount
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: boxCount, alignment: 16)
            let ad = FileCrypto.chunkAD(m.id.bytes, chunk: UInt32(item.chunk), offset: UInt32(offset))
            let sealed: Bool = data.withUnsafeBytes { buf in
                (try? XChaChaPoly.sealWithRandomNonce(UnsafeRawBufferPointer(rebasing: buf[offset..<end]), key: item.servable.fileKey,
                                                      associatedData: ad, into: raw)) != nil
            }
            guard sealed else { raw.deallocate(); return .failure(.io(operation: "seal", path: "chunk", errno: 0)) }
            var d = Hark_V1_ChunkData()
            d.manifestID = Data(m.id.bytes)
            d.chunk = UInt32(item.chunk)
            d.offset = UInt32(offset)
            d.box = Data(bytesNoCopy: raw.baseAddress!, count: boxCount, deallocator: .custom { p, _ in p.deallocate() })
            var f = Hark_V1_Frame()
            f.chunkData = d
            frames.append((f, boxCount))
            offset = end
        }
        return .success(frames)
    }

    // MARK: fetch registry

    func job(_ id: ManifestID) -> FetchJob? { jobs.withLock { $0[id] } }

    /// Registers a fetch; false when one for the same manifest runs already.
    func register(_ job: FetchJob) -> Bool {
        jobs.withLock { j in
            if j[job.manifestID] != nil { return false }
            j[job.manifestID] = job
            return true
        }
    }

    func unregister(_ id: ManifestID) { _ = jobs.withLock { $0.removeValue(forKey: id) } }

    var allJobs: [FetchJob] { jobs.withLock { Array($0.values) } }

    /// A ChunkData frame from a channel reader.
    /// - Throws: `ProtocolViolation` for a malformed frame.
    func receiveBulk(_ frame: Hark_V1_Frame, from session: PeerSession) async throws {
        guard case let .chunkData(data)? = frame.frame else { return }
        guard let id = try? ManifestID(bytes: [UInt8](data.manifestID)) else {
            throw ProtocolViolation("chunk data with a manifest ID of \(data.manifestID.count) bytes")
        }
        guard data.box.count <= FileWireLimits.chunkSliceBytes + XChaChaPoly.nonceByteCount + XChaChaPoly.tagByteCount else {
            throw ProtocolViolation("chunk slice of \(data.box.count) bytes")
        }
        // Data for no fetch of ours (it ended, or a late answer): dropped.
        guard let job = job(id) else { return }
        try await job.receive(data, from: session)
    }

    // MARK: serving

    /// Queues a chunk request of `session`; false when its queue is full (answer BUSY).
    func serve(chunk: Int, servable: Servable, to session: PeerSession) -> Bool {
        let item = ServeItem(chunk: chunk, servable: servable)
        enum Outcome { case queued, busy, start(AsyncStream<ServeItem>) }
        let outcome = servers.withLock { s -> Outcome in
            if var q = s[session.id] {
                guard q.queued < FileWireLimits.maxQueuedRequestsPerSession else { return .busy }
                q.queued += 1
                s[session.id] = q
                q.continuation.yield(item)
                return .queued
            }
            let (stream, continuation) = AsyncStream.makeStream(of: ServeItem.self)
            s[session.id] = ServeQueue(continuation: continuation, queued: 1)
            continuation.yield(item)
            return .start(stream)
        }
        switch outcome {
        case .queued: return true
        case .busy: return false
        case let .start(stream):
            Task.detached { [self] in await self.runServer(stream, session: session) }
            return true
        }
    }

    func sessionClosed(_ id: UInt64) {
        let q = servers.withLock { $0.removeValue(forKey: id) }
        q?.continuation.finish()
    }

    /// One channel's server: reads, re-verifies, seals and queues one chunk at a time, waiting
    /// for the channel's bulk queue to drain before the next (back-pressure).
    private func runServer(_ stream: AsyncStream<ServeItem>, session: PeerSession) async {
        for await item in stream {
            servers.withLock { s in s[session.id]?.queued -= 1 }
            if session.isClosed { break }
            if hooks.serveDelayMs > 0 { try? await Task.sleep(for: .milliseconds(hooks.serveDelayMs)) }
            let m = item.servable.manifest
            let corrupt = hooks.corruptServedChunks
            let prepared = (try? await bulkPool.runIfActive { Self.prepareChunk(item, corrupt: corrupt) })
                ?? .failure(.sourceChanged("server stopping"))
            let frames: [(Hark_V1_Frame, Int)]
            switch prepared {
            case let .success(f): frames = f
            case let .failure(error):
                let refused: Hark_V1_RefuseReason
                if case .sourceChanged = error, item.servable.source != nil { refused = .sourceChanged } else { refused = .notHeld }
                logger.info("not serving a chunk", metadata: ["manifest.id": "\(m.id)", "chunk": "\(item.chunk)", "reason": "\(error)"])
                counters.withLock { c in if refused == .sourceChanged { c.sourceChanged += 1 } else { c.chunksRefused += 1 } }
                var r = Hark_V1_ChunkRefused()
                r.manifestID = Data(m.id.bytes)
                r.chunk = UInt32(item.chunk)
                r.reason = refused
                var f = Hark_V1_Frame()
                f.chunkRefused = r
                session.send(f)
                continue
            }
            let length = m.layout.length(of: item.chunk)
            counters.withLock { c in c.bytesReadForServing += UInt64(length) }
            for (f, n) in frames {
                await session.waitForBulk(below: FileWireLimits.bulkQueueBytes)
                if session.isClosed { return }
                session.sendBulk(f, bytes: n)
            }
            counters.withLock { c in c.chunksServed += 1; c.bytesServed += UInt64(length) }
        }
    }
}

/// Owns the target folder and the staged files of one fetch; verifies and writes chunks.
/// An actor so that hashing and writing run beside the network (never on a channel reader).
actor FetchWriter {
    let manifest: Manifest
    private let target: FetchTarget
    private var staged: [StagedFile]
    private(set) var resumed = 0
    private(set) var zero = 0

    enum WriteResult: Sendable { case written, corrupt(String), failed(FileError) }

    /// Opens `directory`, refuses existing destinations (unless `force`), stages every entry
    /// (resuming from persisted bitmaps) and marks chunks that are all-zero in the manifest.
    init(directory: String, manifest: Manifest, force: Bool) throws(FileError) {
        self.manifest = manifest
        let t = try FetchTarget(directory: directory, manifest: manifest, options: .init(force: force))
        if !force {
            for i in manifest.entries.indices where try t.destinationExists(entry: i) {
                t.removeStagingIfEmpty()
                throw .alreadyExists(manifest.entries[i].displayName)
            }
        }
        var files: [StagedFile] = []
        var resumed = 0, zero = 0
        for i in manifest.entries.indices {
            let s = try t.stage(entry: i)
            resumed += s.stats.chunksResumed
            for c in 0..<s.entry.chunkCount where !s.have.contains(c) { try s.markIfZero(chunk: c) }
            zero += s.stats.chunksZero
            files.append(s)
        }
        target = t
        staged = files
        self.resumed = resumed
        self.zero = zero
    }

    /// Verified chunks, manifest-wide.
    func held() -> ChunkBitmap {
        var b = ChunkBitmap(count: manifest.chunkCount)
        for (e, s) in staged.enumerated() {
            for c in 0..<s.entry.chunkCount where s.have.contains(c) { b.insert(manifest.layout.global(entry: e, chunk: c)) }
        }
        return b
    }

    func write(global: Int, data: [UInt8]) -> WriteResult {
        let (e, c) = manifest.layout.locate(global)
        do {
            try staged[e].write(chunk: c, data: data)
            return .written
        } catch {
            switch error {
            case .chunkHashMismatch, .wrongChunkLength: return .corrupt("\(error)")
            default: return .failed(error)
            }
        }
    }

    /// Persists every bitmap (an interrupted fetch resumes from here).
    func flush() {
        for s in staged where !s.isCommitted { try? s.flush() }
    }

    struct Committed: Sendable {
        var paths: [String]
        var bytesHashed: UInt64
        var bytesReadBack: UInt64
    }

    /// Renames every complete file into place.
    func commitAll() throws(FileError) -> Committed {
        var out = Committed(paths: [], bytesHashed: 0, bytesReadBack: 0)
        for s in staged {
            if !s.isCommitted { _ = try s.commit() }
            out.paths.append(s.entry.relativePath)
            out.bytesHashed += s.stats.bytesHashed
            out.bytesReadBack += s.stats.bytesReadForVerification
        }
        target.removeStagingIfEmpty()
        return out
    }
}

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

    struct Assembly {
        let session: UInt64
        /// The chunk's buffer, `length` bytes; the first `filled` hold opened slices.
        var data: [UInt8]
        var filled = 0
        let length: Int

        init(session: UInt64, length: Int) {
            self.session = session
            self.length = length
            // Not zero-filled: every byte is written by a slice before the chunk is used.
            data = [UInt8](unsafeUninitializedCapacity: length) { _, n in n = length }
        }
    }

    init(manifest: Manifest, fileKey: [UInt8], directory: String, writer: FetchWriter, held: ChunkBitmap, waitMs: Int64,
         transfers: FileTransfers, events: AsyncStream<FetchEvent>.Continuation?, logger: Logger,
         onComplete: @escaping @Sendable ([String]) async -> Void) {
        self.manifestID = manifest.id
        self.manifestChunkCount = manifest.chunkCount
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
        scheduler = FetchScheduler(layout: manifest.layout, alreadyHave: held,
                                   configuration: .init(maxInFlightPerPeer: inFlight, waitForSourcesMs: waitMs))
    }

    static func nowMs() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Starts the 4 Hz tick (timeouts, progress) and the first requests.
    func start() {
        Task { [self] in
            while await !self.isFinished {
                try? await Task.sleep(for: .milliseconds(250))
                await self.tick()
            }
        }
        pump()
    }

    var isFinished: Bool { finished }

    func tick() {
        guard !finished else { return }
        pump()
        emitProgress()
    }

    private func emitProgress() {
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

    /// One slice of a chunk. Slices of chunks not asked of this session are dropped (late
    /// answers after a timeout).
    func receive(_ d: Hark_V1_ChunkData, from session: PeerSession) throws {
        guard !finished else { return }
        let chunk = Int(d.chunk)
        guard chunk < manifest.chunkCount else { throw ProtocolViolation("chunk \(chunk) of a manifest with \(manifest.chunkCount)") }
        guard var a = assembling[chunk], a.session == session.id else { return }
        // Where the slice goes is checked before it is opened (its length is the box's less
        // nonce and tag); it is then decrypted straight into the chunk's buffer.
        let count = d.box.count - XChaChaPoly.nonceByteCount - XChaChaPoly.tagByteCount
        guard count >= 0 else {
            markCorrupt(session.id, chunk: chunk, why: "slice does not decrypt under the file key")
            return
        }
        guard Int(d.offset) == a.filled, a.filled + count <= a.length, count > 0 else {
            markCorrupt(session.id, chunk: chunk, why: "slice at \(d.offset) of \(count) bytes out of order")
            return
        }
        assembling[chunk] = nil   // avoid a copy of the buffer while writing into it
        let ad = FileCrypto.chunkAD(manifestID.bytes, chunk: d.chunk, offset: d.offset)
        let start = a.filled
        let opened: Bool = d.box.withUnsafeBytes { box in
            a.data.withUnsafeMutableBytes { out in
                (try? XChaChaPoly.openWithPrefixedNonce(box, key: fileKey, associatedData: ad,
                                                        into: UnsafeMutableRawBufferPointer(rebasing: out[start..<start + count]))) != nil
            }
        }
        guard opened else {
            markCorrupt(session.id, chunk: chunk, why: "slice does not decrypt under the file key")
            return
        }
        a.filled += count
        if a.filled < a.length {
            assembling[chunk] = a
            return
        }
        let data = a.data
        let sessionID = session.id
        Task { [writer] in
            let result = await writer.write(global: chunk, data: data)
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
                    await self.fail(ControlErrorBody(code: .badManifest, message:
                        "the sender's file changed after the offer (\(missing) chunks missing); ask for a new offer"))
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
        emitProgress()
        let committed: FetchWriter.Committed
        do { committed = try await writer.commitAll() } catch {
            let code: ControlErrorCode
            switch error {
            case .alreadyExists, .unsafeTarget: code = .targetExists
            default: code = .ioError
            }
            await fail(ControlErrorBody(code: code, message: "\(error)"))
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

    /// Ends the fetch without the files in place; the staged chunks stay for a resume.
    func fail(_ error: ControlErrorBody) async {
        guard !finished else { return }
        finished = true
        transfers.unregister(manifestID)
        await writer.flush()
        logger.info("fetch stopped", metadata: ["manifest.id": "\(manifestID)", "reason": "\(error.message)"])
        events?.yield(.failed(error))
        events?.finish()
    }

    /// The client went away: stop, keep what was verified.
    func cancel() async {
        await fail(ControlErrorBody(code: .unavailable, message: "fetch interrupted"))
    }
}
