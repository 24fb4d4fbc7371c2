import Foundation
import HarkCrypto
import HarkLog
import HarkWireProto
import SwiftProtobuf

/// A reference driver for `ReconciliationSession`, for tests and hark-bench: an in-memory replica
/// that delivers events through the same `EventIntake` as the node (parents first, in total
/// order, judged by the rules that need no group key), and a loopback that runs both sides'
/// sessions over serialized `Frame`s, counting bytes. The node does the same over NIO.
public struct SyncReplica: Sendable {
    public private(set) var graph = CausalGraph()
    public private(set) var events: [EventID: Event] = [:]
    /// Heads stored after the last complete sync, per peer name.
    public var storedHeads: [String: [EventID]] = [:]
    public let name: String
    /// Created with the first event received (its group).
    private var intake: EventIntake?

    public init(name: String) { self.name = name }

    /// Received, not yet deliverable (a parent is missing).
    public var waiting: [EventID: Event] { intake?.waiting ?? [:] }

    /// Delivers `incoming` (and any waiting events they unblock) parents-first, in total order.
    /// - Throws: `EventIntake.Refusal` for an event of another group or one refused before, or
    ///   the `EventError` of the first event the rules refuse.
    public mutating func receive(_ incoming: [Event]) throws {
        guard let first = incoming.first else { return }
        var intake = self.intake ?? EventIntake(group: first.effectiveGroupID, maxWaiting: .max)
        defer { self.intake = intake }
        try intake.admit(try intake.screen(incoming).filter { events[$0.id] == nil })
        var history = GraphIntakeHistory(graph: graph, groupKey: nil)
        graph = CausalGraph()   // one reference: the pass inserts in place
        let pass = intake.deliver(into: &history)
        graph = history.graph
        for e in pass.accepted { events[e.id] = e }
        if let refused = pass.rejections.first { throw refused.error }
    }

    /// Waiting events as the session wants them: ID → parents.
    public var waitingParents: [EventID: [EventID]] { waiting.mapValues(\.allParents) }
}

/// What one loopback sync did.
public struct LoopbackStats: Sendable {
    public var frames = 0
    /// Serialized `Frame` bytes, both directions (no Noise/TCP framing).
    public var frameBytes = 0
    /// Serialized `SignedEvent` bytes inside Events frames.
    public var eventBytes = 0
    /// Bytes of SyncRequest, SyncReply and Needs frames.
    public var syncFrameBytes = 0
    /// Bytes of Events frames (events and their framing).
    public var eventsFrameBytes = 0
    /// SyncRequest frames' bytes (heads, since, Bloom filter).
    public var requestBytes = 0
    public var eventsSent = 0
    /// Rounds of each side's own sync (1 = SyncRequest answered, nothing missing).
    public var roundsA = 0
    public var roundsB = 0
    public var outcomeA: ReconciliationSession.Step?
    public var outcomeB: ReconciliationSession.Step?
    /// Frames processed hit the safety cap (would mean the protocol does not terminate).
    public var hitFrameCap = false

    /// Bytes that are not the events' own serialized bytes.
    public var overheadBytes: Int { frameBytes - eventBytes }
    /// Framing of the events inside Events frames (frame header, group ID, per-event tag+length).
    public var eventFramingBytes: Int { eventsFrameBytes - eventBytes }
    /// Round trips until both sides are done (they run concurrently): max of the two.
    public var roundTrips: Int { max(roundsA, roundsB) }
}

/// How a side of the loopback behaves (for adversarial tests).
public enum LoopbackBehaviour: Sendable {
    case honest
    /// Never answers SyncRequests or Needs (still sends its own SyncRequest).
    case silent
    /// Replaces the Bloom filter of its SyncRequest.
    case bloom(Hark_V1_BloomFilter)
}

public enum Loopback {
    /// Events frames carry at most this many event bytes (as the node: 768 KiB).
    public static let maxEventsFrameBytes = 768 * 1024
    /// Safety cap on frames processed in one sync.
    public static let frameCap = 1_000_000

    /// Runs one sync between `a` and `b` (both start; frames are delivered one at a time,
    /// alternating directions, in FIFO order per direction), then stores heads on completion.
    /// - Parameter useStoredHeads: false = send empty `since` (as on a first meeting).
    /// - Parameter saltSeed: when set, the two Bloom salts are derived from it (reproducible runs);
    ///   otherwise they are random, as in the node.
    public static func sync(_ a: inout SyncReplica, _ b: inout SyncReplica, group: EventID,
                            useStoredHeads: Bool = true, behaviourA: LoopbackBehaviour = .honest,
                            behaviourB: LoopbackBehaviour = .honest, saltSeed: UInt64? = nil) throws -> LoopbackStats {
        var stats = LoopbackStats()
        var sessions = [ReconciliationSession(group: group), ReconciliationSession(group: group)]
        var inbox: [[[UInt8]]] = [[], []]   // inbox[i]: frames for side i
        var heads: [Int] = [0, 0]            // read positions
        let behaviours = [behaviourA, behaviourB]

        func send(_ frame: Hark_V1_Frame, to i: Int) throws {
            let bytes: [UInt8] = try frame.serializedBytes()
            stats.frames += 1
            stats.frameBytes += bytes.count
            switch frame.frame {
            case .events?: stats.eventsFrameBytes += bytes.count
            case .syncRequest?: stats.requestBytes += bytes.count; stats.syncFrameBytes += bytes.count
            default: stats.syncFrameBytes += bytes.count
            }
            inbox[i].append(bytes)
        }
        func sendEvents(_ ids: [EventID], from r: SyncReplica, to i: Int) throws {
            var batch = Hark_V1_Events()
            batch.groupID = Data(group.bytes)
            var size = 0
            func flush() throws {
                guard !batch.events.isEmpty else { return }
                var f = Hark_V1_Frame()
                f.events = batch
                try send(f, to: i)
                batch.events.removeAll()
                size = 0
            }
            for id in ids {
                guard let e = r.events[id] else { continue }
                let n = e.serializedBytes().count
                if size + n > maxEventsFrameBytes { try flush() }
                batch.events.append(e.signedEvent)
                size += n
                stats.eventBytes += n
                stats.eventsSent += 1
            }
            try flush()
        }

        for i in 0..<2 {
            let r = i == 0 ? a : b
            let peer = i == 0 ? b.name : a.name
            let salt = saltSeed.map { seed in
                BLAKE2b.hash(withUnsafeBytes(of: seed.littleEndian, Array.init) + [UInt8(i)], byteCount: 16, personal: "hark.test.salt")
            }
            var request = sessions[i].start(graph: r.graph, storedHeads: useStoredHeads ? r.storedHeads[peer] ?? [] : [],
                                            salt: salt)
            if case let .bloom(p) = behaviours[i] { request.bloom = p }
            var f = Hark_V1_Frame()
            f.syncRequest = request
            try send(f, to: 1 - i)
        }

        var processed = 0
        var turn = 0
        while heads[0] < inbox[0].count || heads[1] < inbox[1].count {
            processed += 1
            if processed > frameCap { stats.hitFrameCap = true; break }
            let i = heads[turn] < inbox[turn].count ? turn : 1 - turn
            turn = 1 - turn
            let bytes = inbox[i][heads[i]]
            heads[i] += 1
            let frame = try Hark_V1_Frame(serializedBytes: bytes)
            let peerName = i == 0 ? b.name : a.name
            switch frame.frame {
            case let .syncRequest(req)?:
                if case .silent = behaviours[i] { continue }
                let r = i == 0 ? a : b
                let ans = try sessions[i].answer(request: req, graph: r.graph)
                try sendEvents(ans.events, from: r, to: 1 - i)
                var f = Hark_V1_Frame(); f.syncReply = ans.reply
                try send(f, to: 1 - i)
            case let .needs(n)?:
                if case .silent = behaviours[i] { continue }
                let r = i == 0 ? a : b
                let ans = try sessions[i].answer(needs: n, graph: r.graph)
                try sendEvents(ans.events, from: r, to: 1 - i)
                var f = Hark_V1_Frame(); f.syncReply = ans.reply
                try send(f, to: 1 - i)
            case let .events(ev)?:
                let decoded = try ev.events.map { s throws in try Event(decoding: s) }
                if i == 0 { try a.receive(decoded) } else { try b.receive(decoded) }
            case let .syncReply(reply)?:
                let r = i == 0 ? a : b
                let step = try sessions[i].receive(reply: reply, graph: r.graph, waiting: r.waitingParents)
                switch step {
                case .wait: break
                case let .needs(frames):
                    for n in frames { var f = Hark_V1_Frame(); f.needs = n; try send(f, to: 1 - i) }
                case let .complete(h):
                    if i == 0 { a.storedHeads[peerName] = h } else { b.storedHeads[peerName] = h }
                    if i == 0 { stats.outcomeA = step } else { stats.outcomeB = step }
                case .failed:
                    if i == 0 { stats.outcomeA = step } else { stats.outcomeB = step }
                }
            default:
                break
            }
        }
        stats.roundsA = sessions[0].rounds
        stats.roundsB = sessions[1].rounds
        return stats
    }
}
