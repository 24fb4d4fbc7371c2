import Dispatch
import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the control protocol's read-only methods off the node's actor, so that no read, however
/// slow (a long history, a cold disk), holds up keepalives, intake, or other control calls.
///
/// Each request gets a reader: a `Node` that is never run (`Node(readerOf:)`), with this node's
/// identity and its own read-only connection to the store (`Store(readOnlyPath:)`; SQLite WAL:
/// it reads the last committed state while the node writes). Its handlers are the node's own
/// (`answerLocally`), so the answers are the same JSON; what lives only in the running node
/// (peers holding a file, fetches in progress) is added afterwards by a short call on the actor.
/// The reader runs on a thread of its own (`ReadThread`), not on Swift's cooperative pool: a
/// read blocks its thread on SQLite I/O, and the pool has one thread per core.
///
/// Test hook: `HARK_TEST_READ_DELAY_MS` (an integer, ms, at most 600000), read once at start,
/// makes every such read block its thread that long inside the reader before it reads, so tests
/// can check that a slow read takes nothing else down. Unset in normal use.
enum ReadService {
    /// The methods answered off the actor: those registered as reads (`Node.controlRoutes`).
    static let methods: Set<String> = Set(Node.controlRoutes.compactMap { name, route in
        if case .read = route { return name }
        return nil
    })

    /// The test hook's delay, ms (0: none).
    static let testDelayMs: Int = {
        guard let text = ProcessInfo.processInfo.environment["HARK_TEST_READ_DELAY_MS"], let ms = Int(text), ms > 0 else { return 0 }
        return min(ms, 600_000)
    }()

    /// Blocks the calling thread for the test hook's delay (no-op when unset).
    static func applyTestDelay() {
        guard testDelayMs > 0 else { return }
        usleep(useconds_t(testDelayMs) * 1000)
    }
}

/// A task executor with one thread of its own (a serial dispatch queue: libdispatch gives each
/// one a thread when it has work), for one blocking read. Thread-safe.
final class ReadThread: TaskExecutor {
    private let queue = DispatchQueue(label: "hark.read")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

extension Node {
    /// Answers one read-only request (`ReadService.methods`) off this actor: returns the
    /// response line. `files` first asks the peers which offers they hold (on the actor, no
    /// store scan), as the daemon always did.
    nonisolated func answerRead(head: RequestHead, line: [UInt8]) async -> [UInt8] {
        let isFiles = head.method == ControlMethods.files.name
        if isFiles, let p = try? params(FilesParams.self, line) {
            if (try? await queryAllOffers(group: p.group)) == true { try? await Task.sleep(for: .milliseconds(400)) }
        }
        let reply: [UInt8] = await withTaskExecutorPreference(ReadThread()) {
            let reader: Node
            do { reader = try Node(readerOf: self) } catch {
                logger.error("cannot open the store for a read", metadata: ["error": "\(error)"])
                return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: ControlErrorBody(
                    code: .storage, message: "cannot open the store for reading: \(error)")))) ?? []
            }
            return await reader.answerAsReader(head: head, line: line)
        }
        guard isFiles, var views = try? ControlCoding.decode(Response<[FileOfferView]>.self, from: reply).result else {
            return reply
        }
        views = await liveFileState(views)
        return (try? ControlCoding.encodeLine(Response(id: head.id, result: views))) ?? reply
    }

    /// On the reader: the test hook's delay, then the request as `LocalReader` answers it.
    func answerAsReader(head: RequestHead, line: [UInt8]) -> [UInt8] {
        ReadService.applyTestDelay()
        return answerLocally(head: head, line: line)
    }

    /// What only the running node knows about file offers: how many connected peers hold each
    /// file whole, and which ones it is fetching now.
    func liveFileState(_ views: [FileOfferView]) -> [FileOfferView] {
        views.map { v in
            guard let bytes = try? Hex.decode(v.fileId), let id = try? ManifestID(bytes: bytes) else { return v }
            var out = v
            out.holders = Set((fileShare.fileHolders[id] ?? [:]).filter { $0.value }.compactMap { peerTable[$0.key]?.peerID }).count
            if files.job(id) != nil { out.state = "fetching" }
            return out
        }
    }
}
