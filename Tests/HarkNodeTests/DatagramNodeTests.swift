#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkCrypto
import HarkDatagram
@testable import HarkNode
import HarkStore
import HarkWire
import HarkWireProto
import Testing

extension Node {
    /// The datagram counters, read from outside the actor.
    var signalCounters: DatagramCounters { signalState.datagramCounters }
}

/// A UDP socket on 127.0.0.1 for a test peer. Receives time out after 3 s.
final class TestUDPSocket: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, len) == 0 else { return -1 }
                return getsockname(fd, p, &len)
            }
        }
        guard rc == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: addr.sin_port))
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to port: Int) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    func receive() -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buf.prefix(n)) : nil
    }
}

/// The node's datagram path with a hand-driven peer on real sockets: keys over the Noise
/// channel, then presence by UDP; replayed, forged and unknown-key packets change nothing.
@Suite(.serialized) struct DatagramNodeTests {
    struct Peer {
        let tcp: RawPeerSocket
        var records: RecordLayer
        let udp: TestUDPSocket
        var sender: DatagramSender
        var receiver = DatagramReceiver()
        let identity: SigningKeyPair
        var nodeUDPPort = 0
    }

    /// A member peer with its datagram key announced and the node's key installed.
    func connect(to n: RunningNode, group: Store.GroupRecord) async throws -> Peer {
        let identity = SigningKeyPair.generate()
        let (tcp, records) = try await memberChannel(to: n, groupKey: group.key, identity: identity)
        var peer = Peer(tcp: tcp, records: records, udp: try TestUDPSocket(), sender: DatagramSender(nowMs: 0), identity: identity)
        var announce = Hark_V1_Frame()
        announce.datagramKey = peer.sender.announcement(udpPort: UInt16(peer.udp.port))
        _ = peer.sender.takeAnnouncement(udpPort: UInt16(peer.udp.port))
        for m in try peer.records.seal(announce) { tcp.writeMessage(m) }
        for _ in 0..<20 {
            guard let m = await tcp.nextMessage() else { break }
            if case let .datagramKey(k)? = try peer.records.open(m)?.frame {
                try peer.receiver.install(k, nowMs: 0)
                peer.nodeUDPPort = Int(k.udpPort)
                return peer
            }
        }
        throw TestPeerError("the node announced no datagram key")
    }

    func presence(_ state: Hark_V1_PresenceState, _ text: String, seq: UInt64) -> Hark_V1_Datagram {
        var p = Hark_V1_Presence()
        p.state = state
        p.statusText = text
        p.seq = seq
        var d = Hark_V1_Datagram()
        d.presence = p
        return d
    }

    func state(_ n: RunningNode, _ peer: Peer) async -> (String, String?) {
        let v = await n.node.presenceView(of: PeerID(peer.identity.publicKey))
        return (v.state, v.statusText)
    }

    @Test func authenticPresenceCountsAndReplayedForgedOrUnknownPacketsChangeNothing() async throws {
        let n = try await RunningNode.start("udp-target")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            var peer = try await connect(to: n, group: g)
            #expect(peer.nodeUDPPort != 0)

            let start = await n.node.signalCounters
            let p1 = try peer.sender.seal(presence(.away, "lunch", seq: 1), nowMs: 1)
            peer.udp.send(p1, to: peer.nodeUDPPort)
            #expect(await eventually(10) { await state(n, peer) == ("away", "lunch") })
            let p2 = try peer.sender.seal(presence(.online, "", seq: 2), nowMs: 2)
            peer.udp.send(p2, to: peer.nodeUDPPort)
            // Counted, not only shown: a stale "away" also shows as online under a slow run.
            #expect(await eventually(10) { await n.node.signalCounters.accepted == start.accepted + 2 })
            #expect(await state(n, peer).0 == "online")
            let before = await n.node.signalCounters

            // The same bytes again: refused by the replay window, before any state changes.
            peer.udp.send(p1, to: peer.nodeUDPPort)
            // One flipped ciphertext bit in a new packet that would say "away".
            var forged = try peer.sender.seal(presence(.away, "forged", seq: 3), nowMs: 3)
            forged[forged.count - 20] ^= 0x01
            peer.udp.send(forged, to: peer.nodeUDPPort)
            // A key_id nobody announced.
            var stranger = DatagramSender(nowMs: 0)
            peer.udp.send(try stranger.seal(presence(.away, "stranger", seq: 9), nowMs: 4), to: peer.nodeUDPPort)
            // Garbage.
            peer.udp.send([0xFF, 1, 2, 3], to: peer.nodeUDPPort)

            #expect(await eventually(10) {
                let c = await n.node.signalCounters
                return c.replayed == before.replayed + 1 && c.authenticationFailed == before.authenticationFailed + 1
                    && c.unknownKey == before.unknownKey + 1 && c.malformed == before.malformed + 1
            })
            #expect(await n.node.signalCounters.accepted == before.accepted)
            #expect(await state(n, peer) == ("online", nil))

            // A new packet under the real key is still accepted after all that.
            let p4 = try peer.sender.seal(presence(.away, "back soon", seq: 4), nowMs: 5)
            peer.udp.send(p4, to: peer.nodeUDPPort)
            #expect(await eventually(10) { await state(n, peer) == ("away", "back soon") })
        }
    }

    @Test func theNodesHeartbeatsOpenUnderTheKeyItAnnounced() async throws {
        let n = try await RunningNode.start("udp-heartbeat")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            var peer = try await connect(to: n, group: g)
            // Heartbeats every 2 s; wait for up to three.
            var got: Hark_V1_Presence?
            let udp = peer.udp
            for _ in 0..<3 where got == nil {
                guard let packet = await offload({ udp.receive() }) else { continue }
                if case let .presence(p)? = try peer.receiver.open(packet, nowMs: 1).datagram { got = p }
            }
            let p = try #require(got, "no heartbeat arrived within 9 s")
            #expect(p.state == .online)
            #expect(p.seq >= 1)
        }
    }
}
