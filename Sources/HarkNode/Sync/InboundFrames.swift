import Foundation
import HarkEventProto
import HarkLog
import HarkWireProto
import Synchronization

/// Decodes the events of one Events frame and checks their Ed25519 signatures off the node's
/// actor, on every core: the events are cut into one slice per core and the slices are decoded
/// concurrently (`Event(decoding:)`, about 35–50 µs an event, nearly all of it the signature).
///
/// Stateless; thread-safe.
enum ConcurrentDecoding {
    /// Fewest events worth a task of their own: below this a slice costs more to schedule than
    /// it saves.
    static let minimumSliceCount = 32

    /// The decoded events of `signed`, in order, or the first (lowest-index) failure.
    static func decode(_ signed: [Hark_V1_SignedEvent]) async -> Result<[Event], EventError> {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let slices = min(cores, max(1, signed.count / minimumSliceCount))
        if slices == 1 { return decodeSlice(signed[...]) }
        let size = (signed.count + slices - 1) / slices
        return await withTaskGroup(of: (Int, Result<[Event], EventError>).self) { group in
            for s in 0..<slices {
                let part = signed[min(signed.count, s * size)..<min(signed.count, (s + 1) * size)]
                group.addTask { (s, decodeSlice(part)) }
            }
            var results = [Result<[Event], EventError>?](repeating: nil, count: slices)
            for await (s, r) in group { results[s] = r }
            var events: [Event] = []
            events.reserveCapacity(signed.count)
            for r in results {
                switch r {
                case let .success(part)?: events.append(contentsOf: part)
                case let .failure(error)?: return .failure(error)
                case nil: break
                }
            }
            return .success(events)
        }
    }

    private static func decodeSlice(_ signed: ArraySlice<Hark_V1_SignedEvent>) -> Result<[Event], EventError> {
        var out: [Event] = []
        out.reserveCapacity(signed.count)
        for s in signed {
            do { out.append(try Event(decoding: s)) } catch { return .failure(error) }
        }
        return .success(out)
    }
}

/// Hands one channel's frames to the node in the order they arrived, while the signatures of
/// later Events frames are already being checked (`ConcurrentDecoding`): the reader submits each frame
/// and goes on reading; one consumer task delivers them. At most `depth` frames (≤ 1 MiB each)
/// wait at a time; `submit` suspends the reader beyond that.
///
/// Events frames of one group (not §6.4 pushes) that wait back to back are delivered together,
/// up to `maxMergedFrames` frames and `maxMergedEvents` events: one store transaction for several
/// frames, so a page the delivery touches is written once, not once per frame (a new member's
/// first sync writes half the bytes per event). The consumer takes at most `maxMergedFrames` at a
/// time, so with `depth` twice that the reader keeps reading, and signatures of the next frames
/// are checked, while a merged delivery is stored.
///
/// Owned by the channel's reader task (not thread-safe: one reader submits). The consumer stops
/// at the first frame the node refuses, and closes the session.
struct InboundFrames {
    enum Work: Sendable {
        case frame(Hark_V1_Frame)
        case events(groupID: Data, push: Bool, decoded: Task<Result<[Event], EventError>, Never>)
    }

    /// Most frames the consumer takes, and merges, at a time.
    static let maxMergedFrames = 4
    /// Most events delivered in one merged call (four full frames of small events).
    static let maxMergedEvents = 8_192

    private let mailbox = Mailbox()
    private let doorbell: AsyncStream<Void>.Continuation
    private var acknowledgements: AsyncStream<Void>.AsyncIterator
    private let consumer: Task<Void, Never>
    private var outstanding = 0
    private let depth: Int

    /// - Parameter depth: frames submitted and not yet handled before `submit` waits (≥ 1).
    init(node: Node, session: PeerSession, depth: Int = 2 * InboundFrames.maxMergedFrames) {
        let (rings, doorbell) = AsyncStream<Void>.makeStream()
        let (ackStream, acks) = AsyncStream<Void>.makeStream()
        let mailbox = self.mailbox
        self.doorbell = doorbell
        self.acknowledgements = ackStream.makeAsyncIterator()
        self.depth = max(1, depth)
        self.consumer = Task {
            defer { acks.finish() }
            for await _ in rings {
                let items = mailbox.take(max: Self.maxMergedFrames)
                for run in Self.runs(items) {
                    do {
                        try await Self.deliver(items[run], node: node, session: session)
                    } catch {
                        node.logger.warning("dropping peer connection", metadata: [
                            "peer.id": "\(session.peerID)", "reason": "\(error)",
                        ])
                        session.close()
                        return
                    }
                    for _ in run { acks.yield() }
                }
            }
        }
    }

    /// `items` cut into what is delivered at once, in order: each run of back-to-back Events
    /// frames of one group that are not §6.4 pushes, and every other frame alone. Pure.
    static func runs(_ items: [Work]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < items.count {
            var end = i + 1
            if case let .events(groupID, false, _) = items[i] {
                while end < items.count, case let .events(g, false, _) = items[end], g == groupID { end += 1 }
            }
            out.append(i..<end)
            i = end
        }
        return out
    }

    /// Delivers one frame, or a run of Events frames of one group (not pushes) as one: their
    /// events in order, up to `maxMergedEvents` a call. A frame whose events failed their checks
    /// is handed over on its own, in its place (what came before it first), as without merging.
    private static func deliver(_ run: ArraySlice<Work>, node: Node, session: PeerSession) async throws {
        guard run.count > 1 else {
            switch run.first {
            case let .frame(frame)?: try await node.handle(frame, from: session)
            case let .events(groupID, push, decoded)?:
                try await node.receiveEvents(groupID: groupID, push: push, decoded: await decoded.value, from: session)
            case nil: break
            }
            return
        }
        var merged: [Event] = []
        var group = Data()
        for item in run {
            guard case let .events(groupID, _, decoded) = item else { continue }
            group = groupID
            switch await decoded.value {
            case let .success(events):
                if !merged.isEmpty, merged.count + events.count > maxMergedEvents {
                    try await node.receiveEvents(groupID: groupID, decoded: .success(merged), from: session)
                    merged = []
                }
                merged.append(contentsOf: events)
            case let .failure(error):
                if !merged.isEmpty { try await node.receiveEvents(groupID: groupID, decoded: .success(merged), from: session) }
                merged = []
                try await node.receiveEvents(groupID: groupID, decoded: .failure(error), from: session)
            }
        }
        if !merged.isEmpty { try await node.receiveEvents(groupID: group, decoded: .success(merged), from: session) }
    }

    /// Queues `frame`; an Events frame starts its signature checks at once, off the actor.
    /// - Returns: false once the consumer stopped (the node refused a frame and closed the session).
    mutating func submit(_ frame: Hark_V1_Frame) async -> Bool {
        while outstanding >= depth {
            guard await acknowledgements.next() != nil else { return false }
            outstanding -= 1
        }
        let item: Work
        if case let .events(events)? = frame.frame {
            let signed = events.events
            item = .events(groupID: events.groupID, push: events.push, decoded: Task { await ConcurrentDecoding.decode(signed) })
        } else {
            item = .frame(frame)
        }
        mailbox.put(item)
        doorbell.yield()
        outstanding += 1
        return true
    }

    /// Waits until every frame submitted so far was handled, so what follows (a file chunk
    /// routed past the node) sees their effects.
    /// - Returns: false once the consumer stopped.
    mutating func drain() async -> Bool {
        while outstanding > 0 {
            guard await acknowledgements.next() != nil else { return false }
            outstanding -= 1
        }
        return true
    }

    /// Waits until every submitted frame was handled (or the consumer stopped).
    func finish() async {
        doorbell.finish()
        await consumer.value
    }

    /// Drops frames not handled yet (the node is stopping or the channel broke).
    func cancel() {
        doorbell.finish()
        consumer.cancel()
    }
}

/// The frames submitted and not yet taken by the consumer, in order. Thread-safe (a mutex).
private final class Mailbox: Sendable {
    private let items = Mutex<[InboundFrames.Work]>([])

    func put(_ item: InboundFrames.Work) { items.withLock { $0.append(item) } }

    /// The oldest `max` frames waiting (fewer if fewer wait), oldest first.
    func take(max: Int) -> [InboundFrames.Work] {
        items.withLock { pending in
            let n = Swift.min(max, pending.count)
            let taken = Array(pending.prefix(n))
            pending.removeFirst(n)
            return taken
        }
    }
}
