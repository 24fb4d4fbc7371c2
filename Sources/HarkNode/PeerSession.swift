import HarkCrypto
import HarkProto
import HarkWire
import NIOCore
import Synchronization

/// One authenticated channel to a peer, after the Noise handshake.
///
/// Frames to send are queued (`send`) and written by the connection's writer task, so the
/// node never waits on a slow peer. The queue is bounded by `maxQueuedFrames`; a peer that
/// does not read is disconnected. Thread-safe.
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
    private let outbox: AsyncStream<Hark_V1_Frame>.Continuation
    private let queued = Mutex<Int>(0)
    private let lastHeard = Mutex<ContinuousClock.Instant>(.now)

    init(id: UInt64, hello: PeerHello, direction: Direction, remoteAddress: String, source: String,
         channel: any Channel, outbox: AsyncStream<Hark_V1_Frame>.Continuation) {
        self.id = id; self.hello = hello; self.direction = direction; self.remoteAddress = remoteAddress
        self.source = source; self.channel = channel; self.outbox = outbox
        self.remoteSocketAddress = channel.remoteAddress
        self.localSocketAddress = channel.localAddress
    }

    var peerID: PeerID { hello.peerID }

    /// Queues a frame. Never blocks.
    func send(_ frame: Hark_V1_Frame) {
        let over = queued.withLock { n -> Bool in n += 1; return n > Self.maxQueuedFrames }
        if over { close(); return }
        outbox.yield(frame)
    }

    func dequeued() { queued.withLock { $0 -= 1 } }

    /// Notes that a record arrived (any frame, pings included).
    func heard() { lastHeard.withLock { $0 = .now } }

    /// Time since the last record arrived.
    var silence: Duration { lastHeard.withLock { ContinuousClock.now - $0 } }

    /// Closes the channel; the connection's tasks then end and the node forgets the session.
    func close() {
        outbox.finish()
        channel.close(promise: nil)
    }
}
