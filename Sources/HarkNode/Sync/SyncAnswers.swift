import Foundation
import HarkEventProto
import HarkLog
import HarkStore
import HarkSync
import HarkWireProto

/// One answer to a peer's SyncRequest or Needs frame (PROTOCOL.md §6.3), computed from the store
/// and not from the group's causal graph: the events to send are read a page at a time in total
/// order (`Store.nextSyncPage`, or the IDs of a Needs answer), sent as stored (no decoding), and
/// followed by the SyncReply with the heads the store holds when the events are sent.
struct SyncAnswerJob: Sendable {
    enum Events: Sendable {
        /// A SyncRequest's answer: the scan over the events the peer lacks, and its Bloom filter.
        case scan(SyncScan, BloomFilter)
        /// A Needs answer: these events (≤ `ReconciliationLimits.maxEventsPerNeedsAnswer`).
        case ids([EventID])
    }
    let group: EventID
    let events: Events
    let session: ReconciliationSession
}

/// Sends the sync answers of one channel, in the order they were asked, off the node's actor:
/// a 100,000-event answer neither holds the actor nor sits in memory. It reads pages from the
/// store (a WAL reader, beside the node's writer) and queues frames on the session only while at
/// most `queuedFrames` wait to be written. Events stored while an answer is sent reach the
/// peer as pushes (PROTOCOL.md §6.2); one that the scan passed already is not sent twice.
///
/// Owned by the node (one per channel, created on the first answer); thread-safe.
final class SyncAnswerer: Sendable {
    /// Answers waiting per channel before the peer counts as flooding (each SyncRequest and
    /// Needs frame is one answer).
    static let maxQueuedAnswers = 1024
    /// Control frames (≤ 1 MiB each) queued on the session before the answerer waits.
    static let queuedFrames = 4

    private let jobs: AsyncStream<SyncAnswerJob>.Continuation
    private let worker: Task<Void, Never>

    init(store: Store, session: PeerSession) {
        let (stream, jobs) = AsyncStream<SyncAnswerJob>.makeStream(bufferingPolicy: .bufferingOldest(Self.maxQueuedAnswers))
        self.jobs = jobs
        self.worker = Task.detached(priority: .medium) {
            for await job in stream {
                guard !session.isClosed else { return }
                do { try await Self.send(job, store: store, session: session) } catch {
                    session.close()   // the store failed: the peer syncs again on a new channel
                    return
                }
            }
        }
    }

    /// Queues an answer. - Returns: false when `maxQueuedAnswers` wait already (the caller
    /// drops the channel).
    func submit(_ job: SyncAnswerJob) -> Bool {
        if case .enqueued = jobs.yield(job) { return true }
        return false
    }

    /// Stops sending (the channel closed).
    func cancel() {
        jobs.finish()
        worker.cancel()
    }

    private static func send(_ job: SyncAnswerJob, store: Store, session: PeerSession) async throws {
        switch job.events {
        case let .scan(start, bloom):
            var scan = start
            while !scan.finished, !Task.isCancelled, !session.isClosed {
                let page = try store.nextSyncPage(&scan, maxBytes: SyncLimits.maxEventsFrameByteCount) { !bloom.mightContain($0) }
                if !page.isEmpty { try await sendFrame(page, group: job.group, to: session) }
            }
        case let .ids(ids):
            let events = try store.signedEvents(ids)
            var start = 0
            while start < events.count {
                var end = start, size = 0
                while end < events.count, end == start || size + events[end].signed.count <= SyncLimits.maxEventsFrameByteCount {
                    size += events[end].signed.count
                    end += 1
                }
                try await sendFrame(events[start..<end], group: job.group, to: session)
                start = end
            }
        }
        var frame = Hark_V1_Frame()
        frame.syncReply = job.session.reply(heads: try store.heads(group: job.group))
        session.send(frame)
    }

    private static func sendFrame(_ page: some Collection<(id: EventID, signed: Data)>, group: EventID,
                                  to session: PeerSession) async throws {
        var batch = Hark_V1_Events()
        batch.groupID = Data(group.bytes)
        batch.events.reserveCapacity(page.count)
        for e in page { batch.events.append(try Hark_V1_SignedEvent(serializedBytes: e.signed)) }
        var frame = Hark_V1_Frame()
        frame.events = batch
        await session.waitForControl(below: queuedFrames)
        session.send(frame)
    }
}
