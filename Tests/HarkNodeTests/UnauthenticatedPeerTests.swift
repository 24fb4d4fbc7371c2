import HarkCrypto
@testable import HarkNode
import HarkWire
import Testing

/// Peers that never authenticate, against a real node on loopback.
@Suite(.serialized) struct UnauthenticatedPeerTests {
    /// Completes a handshake as a fresh identity from 127.0.0.1; true when the node answered.
    func realPeerHandshakes(with n: RunningNode) async throws -> Bool {
        let local = LocalHello(identity: SigningKeyPair.generate(), noiseStatic: AgreementKeyPair.generate(),
                               displayName: "real", instanceToken: SecureRandom.bytes(8), listenPort: 0)
        var driver = HandshakeDriver(role: .initiator, local: local)
        let s = try RawPeerSocket(port: n.port, source: "127.0.0.1")
        s.writeMessage(try driver.start()!)
        guard let m2 = await s.nextHandshakeMessage(), case let .sendAndComplete(m3, _) = try driver.receive(m2) else { return false }
        s.writeMessage(m3)
        return driver.isComplete
    }

    @Test("a length prefix of 0 before the handshake closes the connection at once, unread")
    func attachmentBeforeHandshake() async throws {
        // A handshake deadline of 60 s: a close well before it is the decoder's refusal, not
        // the deadline, however busy the machine running the tests is.
        let n = try await RunningNode.start("zeroprefix") { $0.handshakeTimeoutMs = 60_000 }
        try await withNodes([n]) {
            let s = try RawPeerSocket(port: n.port)
            s.write([0, 0])   // only the prefix: no attachment length, no body
            #expect(await s.closedByPeer(withinMs: 20_000), "the node waited for the attachment's length")
        }
    }

    @Test("a handshake message longer than 1120 bytes is refused from its prefix")
    func oversizedHandshakeMessage() async throws {
        // A handshake deadline of 60 s: a close well before it is the decoder's refusal, not
        // the deadline, however busy the machine running the tests is.
        let n = try await RunningNode.start("bigprefix") { $0.handshakeTimeoutMs = 60_000 }
        try await withNodes([n]) {
            let s = try RawPeerSocket(port: n.port)
            s.write([0xff, 0xff])
            #expect(await s.closedByPeer(withinMs: 20_000), "the node waited for a 64 KiB handshake message")
        }
    }

    @Test("one source's idle connections are capped, and a peer from elsewhere still handshakes")
    func perSourceCap() async throws {
        let n = try await RunningNode.start("flooded")
        try await withNodes([n]) {
            let cap = HandshakeAdmission.Limits().maxPendingPerSource
            var held: [RawPeerSocket] = []
            for _ in 0..<cap { held.append(try RawPeerSocket(port: n.port, source: "127.0.0.2")) }
            #expect(await eventually(5) { n.node.pendingHandshakes.count == cap })
            let extra = try RawPeerSocket(port: n.port, source: "127.0.0.2")
            #expect(await extra.closedByPeer(withinMs: 3000), "connection \(cap + 1) from one source was kept")
            #expect(try await realPeerHandshakes(with: n), "a peer from another address could not handshake")
            #expect(await eventually(5) { n.node.pendingHandshakes.count == cap }, "the real peer still counts as unauthenticated")
            held.removeAll()
            #expect(await eventually(5) { n.node.pendingHandshakes.count == 0 })
        }
    }

    @Test("with every unauthenticated slot taken, a real peer still handshakes; the oldest idle connection goes")
    func totalCapEvictsOldest() async throws {
        let n = try await RunningNode.start("full")
        try await withNodes([n]) {
            let limits = HandshakeAdmission.Limits()
            var held: [RawPeerSocket] = []
            for i in 0..<limits.maxPending {   // 8 sources (127.0.0.2 …) × 8 connections
                held.append(try RawPeerSocket(port: n.port, source: "127.0.0.\(2 + i / limits.maxPendingPerSource)"))
                if i == 0 { #expect(await eventually(5) { n.node.pendingHandshakes.count == 1 }) }   // the oldest
            }
            #expect(await eventually(5) { n.node.pendingHandshakes.count == limits.maxPending })
            #expect(try await realPeerHandshakes(with: n), "a real peer could not handshake with every slot taken")
            #expect(await held[0].closedByPeer(withinMs: 3000), "the oldest idle connection was not evicted")
        }
    }
}
