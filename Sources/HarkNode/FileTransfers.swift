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
import NIOCore
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
/// chunk is sealed under a key only group members can derive (XChaCha20-Poly1305, or for chunk
/// slices AES-256-GCM or ChaCha20-Poly1305 where both ends offer it), with a random nonce or
/// salt and associated data that binds it to its manifest, chunk and offset.
enum FileCrypto {
    /// Whether this node offers AES-256-GCM for chunk slices: when the CPU has AES-NI and
    /// PCLMUL, unless the test hook HARK_TEST_BULK_CIPHER (`xchacha` or `chacha20`) turns it off (§11.7).
    static let offerAES256GCM: Bool = {
        let hook = ProcessInfo.processInfo.environment["HARK_TEST_BULK_CIPHER"]
        return BulkAEAD.aes256GCMAvailable && hook != "xchacha" && hook != "chacha20"
    }()
    /// Whether this node offers ChaCha20-Poly1305 for chunk slices: always, unless the test hook
    /// HARK_TEST_BULK_CIPHER=xchacha turns it off (§11.7).
    static let offerChaCha20Poly1305: Bool = ProcessInfo.processInfo.environment["HARK_TEST_BULK_CIPHER"] != "xchacha"

    /// The cipher a server seals with for an asker that offered `aes256GCM` and `chacha20Poly1305`
    /// (§11.2): AES-256-GCM where both offer it, else ChaCha20-Poly1305 where both offer it,
    /// else XChaCha20-Poly1305, which every node opens.
    static func cipher(askerOffersAES256GCM aes: Bool, chaCha20Poly1305 chacha: Bool) -> BulkCipher {
        if aes && offerAES256GCM { return .aes256GCM }
        if chacha && offerChaCha20Poly1305 { return .chacha20Poly1305 }
        return .xchacha20Poly1305
    }

    /// The wire value of `cipher` in `ChunkData.cipher`.
    static func wire(_ cipher: BulkCipher) -> Hark_V1_BulkCipher {
        switch cipher {
        case .xchacha20Poly1305: return .xchacha20Poly1305
        case .aes256GCM: return .aes256Gcm
        case .chacha20Poly1305: return .chacha20Poly1305
        }
    }

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
    /// A fetch in progress whose verified chunks are served from its part files (a swarm).
    var partial: FetchWriter? = nil
}

/// Where the local copy of each entry is, as stored in `shared_file.sources` (JSON).
struct StoredSource: Codable, Sendable {
    var path: String
    var size: UInt64
    var mtimeS: Int64
    var mtimeNs: Int64
    /// Device, inode and ctime (absent in sources stored before they were kept: those are
    /// re-hashed on every read).
    var identity: SourceIdentity?
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
        let cipher: BulkCipher
    }

    /// One sealed slice ready for the channel: the ChunkData header and its attachment.
    typealias SealedSlice = (frame: Hark_V1_Frame, attachment: ByteBuffer)

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

    /// One event-loop thread at nice +10 for the fetch writers' disk work (pwrite, fdatasync,
    /// bitmap writes): every `FetchWriter` runs its jobs there instead of on Swift's cooperative
    /// pool, whose threads (one per core) also run the node's actor, so a fast transfer's writes
    /// do not delay chat. Process-wide; lives as long as the process.
    static let writeLoop: any EventLoop = {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
        loop.execute { FileTransfers.lowerThreadPriority() }
        return loop
    }()

    /// Lowers the calling thread's priority: on Linux, setpriority(PRIO_PROCESS, 0) sets the nice
    /// value of the calling thread only (setpriority(2), NOTES). Idempotent; the system call runs
    /// once per thread (a thread-specific flag remembers it), not once per chunk.
    static func lowerThreadPriority() {
        #if os(Linux)
        guard pthread_getspecific(loweredKey) == nil else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        _ = pthread_setspecific(loweredKey, UnsafeRawPointer(bitPattern: 1))
        #endif
    }

    #if os(Linux)
    /// Set (non-nil) on a thread once `lowerThreadPriority` lowered it.
    private static let loweredKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
        return key
    }()
    #endif

    /// Reads a chunk (checking that its source is still the offered file, §10.4) and seals its
    /// slices in place, on a low-priority thread. The chunk is read into one buffer laid out as
    /// the slices go on the wire, `slice ‖ tag` after `slice ‖ tag`, so each attachment is a view
    /// of that buffer: after the read, no byte of the chunk is copied before the socket write.
    /// `rehashed`: the source's identity had changed, so the chunk was hashed to vouch for it.
    static func prepareChunk(_ item: ServeItem, partialBytes: [UInt8]?, corrupt: Bool) -> Result<(slices: [SealedSlice], rehashed: Bool), FileError> {
        lowerThreadPriority()
        let m = item.servable.manifest
        let fill: ([UnsafeMutableRawBufferPointer]) throws(FileError) -> Void
        var check = ChunkSource.Check.identity
        if let partialBytes {
            fill = { regions throws(FileError) in
                var at = 0
                partialBytes.withUnsafeBytes { raw in
                    for r in regions { r.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[at..<(at + r.count)])); at += r.count }
                }
            }
        } else if let source = item.servable.source {
            fill = { regions throws(FileError) in check = try source.read(global: item.chunk, into: regions) }
        } else {
            return .failure(.sourceChanged("not held"))
        }
        let length = m.layout.length(of: item.chunk)
        let slice = FileWireLimits.chunkSliceBytes
        let tag = BulkAEAD.tagByteCount
        let count = (length + slice - 1) / slice
        var buffer = ByteBufferAllocator().buffer(capacity: length + count * tag)
        var nonces: [[UInt8]] = []
        var outcome: Result<Void, FileError> = .success(())
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length + count * tag) { raw in
            var regions: [UnsafeMutableRawBufferPointer] = []
            for i in 0..<count {
                let at = i * (slice + tag)
                let plain = min(slice, length - i * slice)
                regions.append(UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + plain)]))
            }
            do throws(FileError) { try fill(regions) } catch { outcome = .failure(error); return 0 }
            if corrupt, let first = regions.first, !first.isEmpty { first[first.count / 2] ^= 0x5A }
            for (i, region) in regions.enumerated() {
                let at = i * (slice + tag)
                let sealed = UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + region.count + tag)])
                let ad = FileCrypto.chunkAD(m.id.bytes, chunk: UInt32(item.chunk), offset: UInt32(i * slice))
                do throws(CryptoError) {
                    nonces.append(try BulkAEAD.seal(inPlace: sealed, cipher: item.cipher, key: item.servable.fileKey, associatedData: ad))
                } catch { outcome = .failure(.io(operation: "seal (\(error))", path: "chunk", errno: 0)); return 0 }
            }
            return length + count * tag
        }
        if case let .failure(error) = outcome { return .failure(error) }
        var out: [SealedSlice] = []
        for i in 0..<count {
            let plain = min(slice, length - i * slice)
            var d = Hark_V1_ChunkData()
            d.manifestID = Data(m.id.bytes)
            d.chunk = UInt32(item.chunk)
            d.offset = UInt32(i * slice)
            d.cipher = FileCrypto.wire(item.cipher)
            d.nonce = Data(nonces[i])
            d.sealedLength = UInt32(plain + tag)
            var f = Hark_V1_Frame()
            f.chunkData = d
            out.append((f, buffer.getSlice(at: buffer.readerIndex + i * (slice + tag), length: plain + tag)!))
        }
        return .success((out, check == .rehashed))
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

    /// A ChunkData header and its attachment (the sealed slice), from a channel reader.
    /// - Throws: `ProtocolViolation` for a malformed header.
    func receiveBulk(_ data: Hark_V1_ChunkData, sealed: ByteBuffer, from session: PeerSession) async throws {
        guard let id = try? ManifestID(bytes: [UInt8](data.manifestID)) else {
            throw ProtocolViolation("chunk data with a manifest ID of \(data.manifestID.count) bytes")
        }
        // Data for no fetch of ours (it ended, or a late answer): dropped.
        guard let job = job(id) else { return }
        try await job.receive(data, sealed: sealed, from: session)
    }

    // MARK: serving

    /// Queues a chunk request of `session`; false when its queue is full (answer BUSY).
    func serve(chunk: Int, servable: Servable, cipher: BulkCipher, to session: PeerSession) -> Bool {
        let item = ServeItem(chunk: chunk, servable: servable, cipher: cipher)
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

    /// Chunks a channel's server holds prepared ahead of the socket: up to 3 (two being read and
    /// sealed on the two bulk threads while a third waits for room in the channel's bulk queue),
    /// and at most 16 MiB of them (a larger chunk is prepared alone).
    static let readAheadChunks = 3
    static let readAheadBytes = 16 << 20

    /// A chunk read, checked and sealed, or why it is not served.
    typealias Prepared = Result<(slices: [SealedSlice], rehashed: Bool), FileError>

    /// One channel's server, a two-stage pipeline. The first stage takes the requests in order
    /// and starts reading, checking and sealing each on a low-priority bulk thread, up to
    /// `readAheadChunks` / `readAheadBytes` ahead, so that both bulk threads seal while the
    /// socket sends. The second stage queues the sealed slices on the channel in request order,
    /// waiting for its bulk queue to drain below `FileWireLimits.bulkQueueBytes` before each
    /// (back-pressure), and answers a chunk it cannot serve with a ChunkRefused.
    private func runServer(_ stream: AsyncStream<ServeItem>, session: PeerSession) async {
        let budget = ReadAheadBudget(maxChunks: Self.readAheadChunks, maxBytes: Self.readAheadBytes)
        let (prepared, preparing) = AsyncStream.makeStream(of: (item: ServeItem, bytes: Int, result: Task<Prepared, Never>).self)
        let readAhead = Task { [self] in
            defer { preparing.finish() }
            for await item in stream {
                servers.withLock { s in s[session.id]?.queued -= 1 }
                if session.isClosed { break }
                let bytes = item.servable.manifest.layout.length(of: item.chunk)
                guard await budget.acquire(bytes) else { break }
                if hooks.serveDelayMs > 0 { try? await Task.sleep(for: .milliseconds(hooks.serveDelayMs)) }
                let corrupt = hooks.corruptServedChunks
                // A chunk of a fetch in progress is read back from its part file (verified before it
                // was written); nil when it is not there (any more): refused as not held.
                var partialBytes: [UInt8]?
                if let writer = item.servable.partial {
                    partialBytes = await writer.readVerified(global: item.chunk)
                }
                let pool = bulkPool
                let result = Task<Prepared, Never> { [partialBytes] in
                    if item.servable.partial != nil, partialBytes == nil { return .failure(.sourceChanged("not held")) }
                    return (try? await pool.runIfActive { Self.prepareChunk(item, partialBytes: partialBytes, corrupt: corrupt) })
                        ?? .failure(.sourceChanged("server stopping"))
                }
                preparing.yield((item, bytes, result))
            }
        }
        defer {
            budget.close()
            readAhead.cancel()
        }
        for await (item, bytes, result) in prepared {
            // The chunk leaves the budget once its slices are queued (or it is refused).
            defer { budget.release(bytes) }
            let prepared = await result.value
            if session.isClosed { return }
            let m = item.servable.manifest
            let frames: [SealedSlice]
            let rehashed: Bool
            switch prepared {
            case let .success(p): (frames, rehashed) = p
            case let .failure(error):
                let refused: Hark_V1_RefuseReason
                if case .sourceChanged = error, item.servable.source != nil, item.servable.partial == nil { refused = .sourceChanged } else { refused = .notHeld }
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
            for (f, attachment) in frames {
                await session.waitForBulk(below: FileWireLimits.bulkQueueBytes)
                if session.isClosed { return }
                session.sendBulk(f, attachment: attachment)
            }
            counters.withLock { c in
                c.chunksServed += 1
                c.bytesServed += UInt64(length)
                switch item.cipher {
                case .aes256GCM: c.chunksServedAesGcm += 1
                case .chacha20Poly1305: c.chunksServedChacha20 += 1
                case .xchacha20Poly1305: c.chunksServedXchacha += 1
                }
                if rehashed { c.chunksRehashed += 1 }
                if item.servable.partial != nil { c.chunksServedPartial += 1 }
            }
        }
    }
}

/// Owns the target folder and the staged files of one fetch; verifies and writes chunks.
/// An actor so that hashing and writing run beside the network (never on a channel reader), on
/// a low-priority thread of its own (`FileTransfers.writeLoop`).
actor FetchWriter {
    /// Runs on `FileTransfers.writeLoop` (low priority, off the cooperative pool).
    nonisolated var unownedExecutor: UnownedSerialExecutor { FileTransfers.writeLoop.executor.asUnownedSerialExecutor() }

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

    func write(global: Int, hashed: HashedChunk) -> WriteResult {
        let (e, c) = manifest.layout.locate(global)
        do {
            try staged[e].write(chunk: c, hashed: hashed)
            return .written
        } catch {
            switch error {
            case .chunkHashMismatch, .wrongChunkLength: return .corrupt("\(error)")
            default: return .failed(error)
            }
        }
    }

    /// A verified chunk read back from its part file, to serve it to another fetcher; nil when
    /// it is not verified yet, or the file was committed (then it is served from its place).
    func readVerified(global: Int) -> [UInt8]? {
        let (e, c) = manifest.layout.locate(global)
        return try? staged[e].readVerified(chunk: c)
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

    /// Deletes the part files and bitmaps of every file not committed, and the staging folder
    /// when it is left empty (an abandoned fetch).
    func discardAll() {
        for s in staged where !s.isCommitted { s.discard() }
        target.removeStagingIfEmpty()
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
        // chunks early and can serve each other (PROTOCOL.md §11.4).
        if manifest.chunkCount > 0 { configuration.startChunk = Int.random(in: 0..<manifest.chunkCount) }
        scheduler = FetchScheduler(layout: manifest.layout, alreadyHave: held, configuration: configuration)
    }

    static func nowMs() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Starts the tick (timeouts, progress, paced requests: every 250 ms, or sooner when the
    /// scheduler's next deadline — a rate-limited request — is nearer, at most every 10 ms)
    /// and the first requests.
    func start() {
        Task { [self] in
            while await !self.isFinished {
                try? await Task.sleep(for: .milliseconds(await self.nextTickMs()))
                await self.tick()
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
