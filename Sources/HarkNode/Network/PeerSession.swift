import HarkCrypto
import HarkWire
import HarkWireProto
import NIOCore
import Synchronization

/// A frame for the writer, with the attachment that follows it on the stream (PROTOCOL.md §3.2).
struct Outgoing: Sendable {
    let frame: Hark_V1_Frame
    /// Sealed bytes written right after the frame's records (`ChunkData` only).
    let attachment: ByteBuffer?
}

/// One authenticated channel to a peer, after the Noise handshake.
///
/// Frames to send are queued and written by the connection's writer task, so the node never
/// waits on a slow peer. There are two queues (PROTOCOL.md Appendix B.2): **control** (everything but
/// file chunk data: sync, events, pings, file requests) and **bulk** (`ChunkData` slices of at
/// most 256 KiB, each with its sealed slice as an attachment). The writer always takes a control frame first, so a chat message waits behind
/// at most the one slice being written. The control queue is bounded by `maxQueuedFrames`; a
/// peer that does not read is disconnected. The bulk queue is bounded by its producers, which
/// wait (`waitForBulk(below:)`) before adding more. Thread-safe.
final class PeerSession: Sendable {
    enum Direction: String, Sendable { case inbound, outbound }

    static let maxQueuedFrames = 4096

    let id: UInt64
    let hello: PeerHello
    let direction: Direction
    let remoteAddress: String
    /// The peer's socket address on this channel (its UDP address takes the IP from it).
    let remoteSocketAddress: SocketAddress?
    /// Our socket address on this channel (invite hints use it).
    let localSocketAddress: SocketAddress?
    /// How the peer was found ("avahi", "static", "inbound").
    let source: String
    private let channel: any Channel
    private let outbox = Mutex<Outbox>(Outbox())
    /// The node's clock: `lastHeardMs` and probe times are on its monotonic time.
    private let clock: any NodeClock
    /// When the last record arrived, ms of `clock.monotonicMs()`.
    private let lastHeardMs: Atomic<Int64>
    private let probeState = Mutex<ChannelProbe>(ChannelProbe())

    struct Outbox: ~Copyable {
        var control = CircularBuffer<Hark_V1_Frame>()
        var bulk = CircularBuffer<(item: Outgoing, bytes: Int)>()
        var bulkBytes = 0
        var closed = false
        var writer: CheckedContinuation<Outgoing?, Never>?
        var drainWaiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var controlWaiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// The next frame to write (control first) and the waiters it releases.
        mutating func pop() -> (Outgoing?, [CheckedContinuation<Void, Never>]) {
            if let f = control.popFirst() {
                guard !controlWaiters.isEmpty else { return (Outgoing(frame: f, attachment: nil), []) }
                var released: [CheckedContinuation<Void, Never>] = []
                let n = control.count
                controlWaiters.removeAll { w in
                    if n <= w.limit { released.append(w.continuation); return true }
                    return false
                }
                return (Outgoing(frame: f, attachment: nil), released)
            }
            return popBulk(fitting: Int.max)
        }

        /// The next bulk item if no control frame waits and its attachment is at most `limit`
        /// bytes, and the waiters it releases.
        mutating func popBulk(fitting limit: Int) -> (Outgoing?, [CheckedContinuation<Void, Never>]) {
            guard control.isEmpty, let first = bulk.first, first.bytes <= limit else { return (nil, []) }
            let b = bulk.removeFirst()
            bulkBytes -= b.bytes
            var released: [CheckedContinuation<Void, Never>] = []
            drainWaiters.removeAll { w in
                if bulkBytes <= w.limit { released.append(w.continuation); return true }
                return false
            }
            return (b.item, released)
        }
    }

    init(id: UInt64, hello: PeerHello, direction: Direction, remoteAddress: String, source: String, channel: any Channel,
         clock: any NodeClock) {
        self.id = id; self.hello = hello; self.direction = direction; self.remoteAddress = remoteAddress
        self.source = source; self.channel = channel
        self.clock = clock
        self.lastHeardMs = Atomic(clock.monotonicMs())
        self.remoteSocketAddress = channel.remoteAddress
        self.localSocketAddress = channel.localAddress
    }

    var peerID: PeerID { hello.peerID }

    /// Queues a control frame. Never blocks.
    func send(_ frame: Hark_V1_Frame) {
        enqueue(Outgoing(frame: frame, attachment: nil), bulkBytes: nil)
    }

    /// Queues a bulk frame (`ChunkData`) and its attachment (the sealed slice). Never blocks;
    /// the caller bounds the queue with `waitForBulk(below:)`.
    func sendBulk(_ frame: Hark_V1_Frame, attachment: ByteBuffer) {
        enqueue(Outgoing(frame: frame, attachment: attachment), bulkBytes: attachment.readableBytes)
    }

    private func enqueue(_ item: Outgoing, bulkBytes: Int?) {
        enum Action { case none, resume(CheckedContinuation<Outgoing?, Never>), overflow }
        let action = outbox.withLock { s -> Action in
            if s.closed { return .none }
            if let w = s.writer {
                s.writer = nil
                return .resume(w)
            }
            if let n = bulkBytes {
                s.bulk.append((item, n))
                s.bulkBytes += n
            } else {
                s.control.append(item.frame)
                if s.control.count > Self.maxQueuedFrames { return .overflow }
            }
            return .none
        }
        switch action {
        case .none: break
        case let .resume(w): w.resume(returning: item)
        case .overflow: close()
        }
    }

    /// The next frame for the writer (control frames first); nil once the session is closed.
    func next() async -> Outgoing? {
        let (first, released) = outbox.withLock { $0.pop() }
        for r in released { r.resume() }
        if let first { return first }
        return await withCheckedContinuation { (cont: CheckedContinuation<Outgoing?, Never>) in
            enum Got { case frame(Outgoing, [CheckedContinuation<Void, Never>]), closed, parked }
            let got = outbox.withLock { s -> Got in
                let (f, released) = s.pop()
                if let f { return .frame(f, released) }
                if s.closed { return .closed }
                s.writer = cont
                return .parked
            }
            switch got {
            case let .frame(f, released):
                for r in released { r.resume() }
                cont.resume(returning: f)
            case .closed: cont.resume(returning: nil)
            case .parked: break
            }
        }
    }

    /// The next queued bulk frame whose attachment is at most `limit` bytes, without waiting;
    /// nil when a control frame waits (it goes first), the bulk queue is empty or its next
    /// attachment is larger. The writer adds such frames to the write of the one before.
    func nextBulk(fitting limit: Int) -> Outgoing? {
        let (item, released) = outbox.withLock { $0.popBulk(fitting: limit) }
        for r in released { r.resume() }
        return item
    }

    /// Returns once the bulk queue holds at most `limit` bytes (or the session closed).
    func waitForBulk(below limit: Int) async {
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            let ready = outbox.withLock { s -> Bool in
                if s.closed || s.bulkBytes <= limit { return true }
                s.drainWaiters.append((limit, cont))
                return false
            }
            if ready { cont.resume() }
        }
    }

    /// Returns once at most `limit` control frames wait to be written (or the session closed):
    /// a producer of many frames (a sync answer) paces itself with it and stays far below
    /// `maxQueuedFrames`.
    func waitForControl(below limit: Int) async {
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            let ready = outbox.withLock { s -> Bool in
                if s.closed || s.control.count <= limit { return true }
                s.controlWaiters.append((limit, cont))
                return false
            }
            if ready { cont.resume() }
        }
    }

    var isClosed: Bool { outbox.withLock { $0.closed } }

    /// Notes that a record arrived (any frame, pings included).
    func heard() { lastHeardMs.store(clock.monotonicMs(), ordering: .relaxed) }

    /// Time since the last record arrived (or the channel opened), ms on the node's clock.
    var silenceMs: Int64 { max(0, clock.monotonicMs() - lastHeardMs.load(ordering: .relaxed)) }

    /// Starts a liveness probe (`ChannelProbe`) now: the nonce to send in a `Ping`, or nil when
    /// one is in flight already.
    func startProbe() -> UInt64? {
        let now = clock.monotonicMs()
        return probeState.withLock { $0.start(nowMs: now, random: UInt64.random(in: 1...UInt64.max)) }
    }

    /// A probe answer arrived; true when it answers the probe in flight.
    func probeAnswered(nonce: UInt64) -> Bool { probeState.withLock { $0.received(echo: nonce) } }

    /// The probe's verdict now.
    func probeVerdict() -> ChannelProbe.Verdict {
        let now = clock.monotonicMs()
        return probeState.withLock { $0.verdict(nowMs: now) }
    }

    /// Whether the kernel holds bytes the peer has not acknowledged while the retransmission
    /// timer backs off (Linux `TCP_INFO`: `tcpi_backoff` > 0 and `tcpi_unacked` > 0). A
    /// connection whose path was cut and healed stays silent until that timer fires (the RTO
    /// doubles from 200 ms up to 120 s), while a new connection is answered at once. False when
    /// the kernel cannot tell (another OS, a channel without a socket, a failed getsockopt).
    /// Runs on the channel's event loop; thread-safe.
    func isStalledInRetransmission() async -> Bool {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider,
              let info = try? await provider.getTCPInfo().get() else { return false }
        return info.tcpi_backoff > 0 && info.tcpi_unacked > 0
        #else
        return false
        #endif
    }

    /// The peer's IP on this channel (zone and IPv4-mapped prefix removed), if known.
    var remoteIP: String? { remoteSocketAddress?.ipAddress.map(LocalAddresses.normalized) }

    /// Closes the channel; the connection's tasks then end and the node forgets the session.
    func close() {
        let (writer, waiters) = outbox.withLock { s -> (CheckedContinuation<Outgoing?, Never>?, [CheckedContinuation<Void, Never>]) in
            s.closed = true
            s.control.removeAll()
            s.bulk.removeAll()
            s.bulkBytes = 0
            let w = s.writer
            s.writer = nil
            let d = s.drainWaiters.map(\.continuation) + s.controlWaiters.map(\.continuation)
            s.drainWaiters = []
            s.controlWaiters = []
            return (w, d)
        }
        writer?.resume(returning: nil)
        for d in waiters { d.resume() }
        channel.close(promise: nil)
    }
}
