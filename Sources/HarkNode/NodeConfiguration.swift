import Foundation
import HarkControl

/// How a node runs. Value type.
public struct NodeConfiguration: Sendable {
    /// Address to accept peer connections on. `"::"` accepts IPv4 and IPv6 where the host has IPv6,
    /// falling back to `"0.0.0.0"`.
    public var listenHost: String = "::"
    /// TCP port for peer connections: bound or the node fails to start. 0: try `preferredPorts`
    /// in order, then any free port (shown by `hark status`).
    public var listenPort: Int = 0
    /// Ports tried in order when `listenPort` is 0 (`hark daemon`: the remembered port, then
    /// `defaultPort`).
    public var preferredPorts: [Int] = []
    /// Write the bound port to the home's `port` file, to be preferred on the next start.
    public var rememberPort: Bool = false
    /// The documented default TCP port of `hark daemon` (UDP datagrams use their own port).
    public static let defaultPort = 7411
    /// Where the control socket is bound (`NodeHome.daemonSocketPath`); nil: `control.sock` in the home.
    public var controlSocketPath: String?
    /// Called once, on the node's actor, when the peer port and the control socket are bound
    /// (`hark daemon` tells systemd it is ready). Must not block.
    public var onReady: (@Sendable (_ tcpPort: Int) -> Void)?
    /// Peers to dial and keep dialling, `host:port` or `[v6]:port`.
    public var staticPeers: [String] = []
    /// Publish and browse `_hark._tcp` through avahi-daemon.
    public var discoveryEnabled: Bool = true
    /// Deadline for a Noise handshake, ms.
    public var handshakeTimeoutMs: Int64 = 10_000
    /// Most inbound connections not authenticated yet, all sources together; one more evicts the
    /// oldest (HandshakeAdmission).
    public var maxPendingHandshakes: Int = 64
    /// Most inbound connections not authenticated yet from one IPv4 address or IPv6 /64; one
    /// more is closed at once.
    public var maxPendingHandshakesPerSource: Int = 8
    /// Deadline for a TCP connect, ms.
    public var connectTimeoutMs: Int64 = 5_000
    /// Delay between dial attempts to a known but unreachable peer, ms (doubles up to 10 s).
    public var redialInitialMs: Int64 = 500
    /// A channel sends a Ping after this much time without sending, ms.
    public var keepaliveIntervalMs: Int64 = 5_000
    /// A channel on which nothing arrived for this long is closed (the peer is gone or
    /// partitioned away), ms; the node then redials peers that are still advertised.
    public var idleTimeoutMs: Int64 = 15_000
    /// Dial, once at start, every peer's last known address from the store (a short-lived node
    /// in `hark send` uses this to reach peers without waiting for discovery).
    public var dialKnownPeers: Bool = false
    /// Most peer connections open at once.
    public var maxConnections: Int = 256
    /// Fetch file offers by others of at most this many bytes by themselves; 0: never.
    public var autoFetchMaxBytes: UInt64 = 0
    /// Where auto-fetched files go (default: `files/` in the home).
    public var autoFetchDirectory: String?
    /// Spread new events by epidemic broadcast (PROTOCOL.md §6.4) to peers that speak it. False
    /// makes the node speak only §6.2 flooding, as a node before §6.4 did: the test hook
    /// `HARK_TEST_PROTOCOL=flood` (Appendix C) sets it, so the lab can mix both kinds of node.
    public var epidemicBroadcast: Bool = ProcessInfo.processInfo.environment["HARK_TEST_PROTOCOL"] != "flood"
    /// Whether §6.4 links keep one tree for all authors, as the first §6.4 nodes did: links start
    /// eager and grafts make them eager for every author (PROTOCOL.md §6.4). The test hook
    /// `HARK_TEST_PROTOCOL=eager-links` (Appendix C) sets it, so the lab can check that both
    /// kinds converge.
    public var broadcastLinksStartEager: Bool = ProcessInfo.processInfo.environment["HARK_TEST_PROTOCOL"] == "eager-links"

    /// What runs this node, written into the home's lock file so that another process can say
    /// what holds the home. A `.send` node hands the home over when a daemon asks (`handover`).
    public var role: NodeRole = .daemon
    /// How long to wait, ms, for a short-lived node (`hark send` without a daemon) that holds
    /// the home's lock: it is asked to hand the home over, and the lock is retried every 100 ms
    /// until this bound. 0: fail at once. A lock held by a daemon always fails at once.
    public var lockWaitMs: Int64 = 0
    /// The node's wall clock, monotonic clock and timer sleeps (NodeClock.swift): presence,
    /// keepalive and channel probes, heartbeats, broadcast timers, invite, join request and
    /// pairing expiry all run on it. Tests pass a clock they move by hand; the handshake
    /// deadline, the control socket's waits, redialling and file transfers use the host's.
    public var clock: any NodeClock = SystemClock()

    public init() {}
}
