import HarkCrypto
import NIOPosix
import Synchronization

/// The per-run resources a node shares with threads outside its actor: the NIO event loops, the
/// tasks serving accepted connections, the handshake admission caps, the control-client count,
/// and this run's instance token and prekey.
///
/// Thread-safety: every member is immutable or synchronised itself; safe from any thread.
/// A read-only node made for a running one (`Node(readerOf:)`) shares its runtime.
final class NodeRuntime: Sendable {
    /// 8 random bytes, new each start; in the TXT record and the handshake, so a node recognises itself.
    let instanceToken: [UInt8] = SecureRandom.bytes(8)
    /// This device's prekey: sender chains of other members are sealed to its public half.
    let prekey: AgreementKeyPair
    let eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    /// The tasks serving accepted peer connections and control clients (AcceptedConnections.swift).
    let inboundPeers = AcceptedConnections()
    let controlClientTasks = AcceptedConnections()
    /// This host's addresses as last polled; wakes redial loops when one appears.
    let addressWatch = AddressWatch()
    /// Inbound connections not authenticated yet, under their caps (HandshakeAdmission.swift).
    let pendingHandshakes: PendingHandshakes
    /// Control connections being served now (`Node.controlClientCount`).
    let controlClients = Atomic<Int>(0)

    init(prekey: AgreementKeyPair, configuration: NodeConfiguration) {
        self.prekey = prekey
        self.pendingHandshakes = PendingHandshakes(limits: .init(
            maxPending: configuration.maxPendingHandshakes, maxPendingPerSource: configuration.maxPendingHandshakesPerSource,
            handshakeTimeoutMs: configuration.handshakeTimeoutMs))
    }
}
