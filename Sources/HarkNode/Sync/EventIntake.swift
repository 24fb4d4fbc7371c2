import Foundation
import HarkLog
import HarkProto

/// Decodes the events of one Events frame and checks their Ed25519 signatures off the node's
/// actor, on every core: the events are cut into one slice per core and the slices are decoded
/// concurrently (`Event(decoding:)`, about 35–50 µs an event, nearly all of it the signature).
///
/// Stateless; thread-safe.
enum EventIntake {
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
/// later Events frames are already being checked (`EventIntake`): the reader submits each frame
/// and goes on reading; one consumer task delivers them. At most `depth` frames (≤ 1 MiB each)
/// wait at a time; `submit` suspends the reader beyond that.
///
/// Owned by the channel's reader task (not thread-safe: one reader submits). The consumer stops
/// at the first frame the node refuses, and closes the session.
struct InboundFrames {
    private enum Work: Sendable {
        case frame(Hark_V1_Frame)
        case events(groupID: Data, push: Bool, decoded: Task<Result<[Event], EventError>, Never>)
    }

    private let work: AsyncStream<Work>.Continuation
    private var acknowledgements: AsyncStream<Void>.AsyncIterator
    private let consumer: Task<Void, Never>
    private var outstanding = 0
    private let depth: Int

    /// - Parameter depth: frames submitted and not yet handled before `submit` waits (≥ 1).
    init(node: Node, session: PeerSession, depth: Int = 4) {
        let (workStream, work) = AsyncStream<Work>.makeStream()
        let (ackStream, acks) = AsyncStream<Void>.makeStream()
        self.work = work
        self.acknowledgements = ackStream.makeAsyncIterator()
        self.depth = max(1, depth)
        self.consumer = Task {
            defer { acks.finish() }
            for await item in workStream {
                do {
                    switch item {
                    case let .frame(frame): try await node.handle(frame, from: session)
                    case let .events(groupID, push, decoded):
                        try await node.receiveEvents(groupID: groupID, push: push, decoded: await decoded.value, from: session)
                    }
                } catch {
                    node.logger.warning("dropping peer connection", metadata: [
                        "peer.id": "\(session.peerID)", "reason": "\(error)",
                    ])
                    session.close()
                    return
                }
                acks.yield()
            }
        }
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
            item = .events(groupID: events.groupID, push: events.push, decoded: Task { await EventIntake.decode(signed) })
        } else {
            item = .frame(frame)
        }
        work.yield(item)
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
        work.finish()
        await consumer.value
    }

    /// Drops frames not handled yet (the node is stopping or the channel broke).
    func cancel() {
        work.finish()
        consumer.cancel()
    }
}
