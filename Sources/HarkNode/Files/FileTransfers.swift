// The serving side of file transfer and the registry of fetches in progress (`FileTransfers`):
// per channel, a serve queue and the pipeline that reads, checks, seals and sends chunks on
// low-priority bulk threads. Owns the fetch registry, the serve queues and the file counters,
// each behind its own Mutex; thread-safe.

import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkWireProto
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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

    /// Reads a chunk (checking that its source is still the offered file, §8.4) and seals its
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
            // swift-format-ignore: NeverForceUnwrap
            // The slice lies inside the bytes just written to `buffer`.
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
