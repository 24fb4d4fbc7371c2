#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import HarkControl
import HarkCrypto
@testable import HarkNode
import HarkLog
import HarkWire
import HarkWireProto
import Logging

// The node harness (RunningNode, TempHome, withNodes, eventually, offload) and the manual
// clock, for every file of these tests.
@_exported import HarkTesting

/// A blocking TCP client on loopback that speaks raw bytes, for peers that lie.
final class RawPeerSocket: @unchecked Sendable {
    let fd: Int32

    /// - Parameter source: the loopback address to connect from (127.0.0.0/8), default the kernel's pick.
    init(port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { close(fd); throw POSIXError(.EADDRNOTAVAIL) }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sets how long a read waits (SO_RCVTIMEO), ms. 5,000 after `init`.
    func setReceiveTimeout(ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads the node's handshake messages: a node under test answers within its handshake
    /// deadline (10 s), later on a loaded machine (the whole suite runs at once on few cores),
    /// so the wait is 30 s; the 5 s bound for later reads is restored after.
    func nextHandshakeMessage() async -> [UInt8]? {
        setReceiveTimeout(ms: 30_000)
        defer { setReceiveTimeout(ms: 5_000) }
        return await nextMessage()
    }

    func write(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Writes one message with its 2-byte big-endian length.
    func writeMessage(_ bytes: [UInt8]) {
        write([UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes)
    }

    /// Reads one length-prefixed message; nil on EOF, error or timeout (5 s).
    func readMessage() -> [UInt8]? {
        guard let len = readExactly(2) else { return nil }
        return readExactly(Int(len[0]) << 8 | Int(len[1]))
    }

    private func readExactly(_ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = out[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if r <= 0 { return nil }
            off += r
        }
        return out
    }

    /// `readMessage` on a Dispatch thread: a blocking read on one of the (few) cooperative
    /// threads would starve the node under test.
    func nextMessage() async -> [UInt8]? { await offload { self.readMessage() } }

    /// `isClosedByPeer` on a Dispatch thread.
    /// True when the node closed the connection within 20 s: every use expects it closed, and a
    /// parallel test run can keep the node from running for several seconds.
    func closedByPeer() async -> Bool { await closedByPeer(withinMs: 20_000) }

    /// True when the node closed the connection (EOF or reset) within `ms` milliseconds.
    func closedByPeer(withinMs ms: Int) async -> Bool {
        setReceiveTimeout(ms: ms)
        return await offload { self.isClosedByPeer() }
    }

    /// True when the node closed the connection (EOF or reset) before a read timed out
    /// (SO_RCVTIMEO).
    func isClosedByPeer() -> Bool {
        var b = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if r == 0 { return true }
            if r < 0 { return errno == ECONNRESET }
        }
    }
}

/// Completes a real handshake as a member of `group`, returning the record layer.
/// `asMember`: the node first adds `identity` to the group (an ADD by its owner); false leaves
/// the peer a key holder that is not a member.
func memberChannel(to n: RunningNode, groupKey: [UInt8], identity: SigningKeyPair, asMember: Bool = true) async throws -> (RawPeerSocket, RecordLayer) {
    if asMember, let g = try n.node.store.allGroups().first(where: { $0.key == groupKey }) {
        try await n.node.addMember(group: g.id.hex, key: identity.publicKey)
    }
    let local = LocalHello(identity: identity, noiseStatic: AgreementKeyPair.generate(), displayName: "member",
                           instanceToken: SecureRandom.bytes(8), listenPort: 0)
    var driver = HandshakeDriver(role: .initiator, local: local)
    let s = try RawPeerSocket(port: n.port)
    s.writeMessage(try driver.start()!)
    var hello: PeerHello?
    while hello == nil {
        guard let m = await s.nextHandshakeMessage() else { throw TestPeerError("closed during handshake (or no answer in 30 s)") }
        switch try driver.receive(m) {
        case let .send(out): s.writeMessage(out)
        case let .sendAndComplete(out, h): s.writeMessage(out); hello = h
        case let .complete(h): hello = h
        }
    }
    var records = RecordLayer(transport: try driver.transport())
    var offer = Hark_V1_GroupOffer()
    offer.tags = [Data(GroupOfferTag.tag(groupKey: groupKey, handshakeHash: hello!.handshakeHash, sender: identity.publicKey))]
    var frame = Hark_V1_Frame()
    frame.groupOffer = offer
    for m in try records.seal(frame) { s.writeMessage(m) }
    return (s, records)
}


struct TestPeerError: Error { let reason: String; init(_ r: String) { reason = r } }
