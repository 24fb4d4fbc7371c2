import Foundation
import HarkCrypto
import HarkLog
@testable import HarkNode
import HarkEventProto
import HarkNoise
import HarkWire
import HarkWireProto
import SwiftProtobuf
import Testing

/// Peers that lie or send garbage: the connection is dropped with a logged reason, the daemon
/// stays up, and the store is unchanged.
@Suite(.serialized) struct LyingPeerTests {
    /// Runs the initiator side of XX by hand so the test can put anything in message 3.
    struct ManualInitiator {
        var handshake: NoiseHandshake
        let socket: RawPeerSocket
        init(port: Int, staticKey: AgreementKeyPair) throws {
            handshake = NoiseHandshake(role: .initiator, prologue: WireLimits.prologue, staticKey: staticKey)
            socket = try RawPeerSocket(port: port)
        }
        /// Sends message 1, reads message 2; returns the responder's payload.
        mutating func firstTwoMessages() async throws -> [UInt8]? {
            socket.writeMessage(try handshake.writeMessage(payload: []))
            guard let m2 = await socket.nextHandshakeMessage() else { return nil }
            return try handshake.readMessage(m2)
        }
    }

    func payload(identity: SigningKeyPair, signature: [UInt8]) throws -> [UInt8] {
        var p = Hark_V1_HandshakePayload()
        p.identityKey = Data(identity.publicKey.bytes)
        p.identitySig = Data(signature)
        p.displayName = "mallory"
        p.instanceToken = Data(SecureRandom.bytes(8))
        return try p.serializedBytes()
    }

    @Test func peerWithWrongIdentitySignatureIsRefused() async throws {
        let n = try await RunningNode.start("victim")
        try await withNodes([n]) {
            let staticKey = AgreementKeyPair.generate()
            var peer = try ManualInitiator(port: n.port, staticKey: staticKey)
            let responderPayload = try await peer.firstTwoMessages()
            #expect(responderPayload != nil)
            let mallory = SigningKeyPair.generate()
            // Signs some other static key, not the one used in this handshake.
            let wrong = mallory.signature(for: Array(WireLimits.staticKeySignatureDomain.utf8) + AgreementKeyPair.generate().publicKey)
            peer.socket.writeMessage(try peer.handshake.writeMessage(payload: try payload(identity: mallory, signature: wrong)))
            #expect(await peer.socket.closedByPeer())
            #expect(await n.node.status().connectedPeers == 0)
            #expect(await n.node.peers().isEmpty)
        }
    }

    @Test func peerWithRightSignatureIsAccepted() async throws {
        // The control case of the test above: the same manual handshake with a true signature is accepted.
        let n = try await RunningNode.start("host")
        try await withNodes([n]) {
            let staticKey = AgreementKeyPair.generate()
            var peer = try ManualInitiator(port: n.port, staticKey: staticKey)
            _ = try await peer.firstTwoMessages()
            let id = SigningKeyPair.generate()
            let good = id.signature(for: Array(WireLimits.staticKeySignatureDomain.utf8) + staticKey.publicKey)
            peer.socket.writeMessage(try peer.handshake.writeMessage(payload: try payload(identity: id, signature: good)))
            #expect(await eventually(5) { await n.node.status().connectedPeers == 1 })
        }
    }

    @Test func garbageInsteadOfAHandshakeIsDropped() async throws {
        let n = try await RunningNode.start("g1")
        try await withNodes([n]) {
            let s = try RawPeerSocket(port: n.port)
            s.writeMessage(SecureRandom.bytes(7))       // too short for an ephemeral key
            #expect(await s.closedByPeer())
            let s2 = try RawPeerSocket(port: n.port)
            s2.write([0xFF, 0xFF] + SecureRandom.bytes(65535))   // the largest length, all garbage
            #expect(await s2.closedByPeer())
            let s3 = try RawPeerSocket(port: n.port)
            s3.write([0x00, 0x00, 0, 0, 0, 0])           // an attachment of 0 bytes is a framing error
            #expect(await s3.closedByPeer())
            let s4 = try RawPeerSocket(port: n.port)
            s4.write([0x00, 0x00, 0, 0, 0, 2, 0x55, 0x55])   // a well-formed attachment, but during the handshake
            #expect(await s4.closedByPeer())
            #expect(await n.node.status().connectedPeers == 0)
            // Still serving: a well-behaved peer connects afterwards.
            let m = try await RunningNode.start("g2", staticPeers: ["127.0.0.1:\(n.port)"])
            try await withNodes([m]) {
                #expect(await eventually(10) { await n.node.status().connectedPeers == 1 })
            }
        }
    }

    @Test func malformedFrameAndTruncatedEventDropTheChannelAndChangeNothing() async throws {
        let n = try await RunningNode.start("target")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            _ = try await n.node.sendMessage(group: "ops", text: "before")
            let g = try await n.node.resolveGroup("ops")
            let mallory = SigningKeyPair.generate()
            try await n.node.addMember(group: "ops", key: mallory.publicKey)   // a member gone bad
            let countBefore = try n.node.store.eventCount(group: g.id)

            // 1. A record that decrypts but holds no valid Frame.
            do {
                let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: SigningKeyPair.generate(), asMember: false)
                var r = records
                var junk = Hark_V1_Frame()
                junk.ping = Hark_V1_Ping()
                // Seal a real frame, then flip the last byte: the AEAD tag fails.
                var sealed = try r.seal(junk)
                sealed[0][sealed[0].count - 1] ^= 1
                s.writeMessage(sealed[0])
                #expect(await s.closedByPeer())
            }
            // 1b. Attachments out of place (PROTOCOL.md §3.2): one nobody announced; a record
            // where an announced one was due; one of another length than announced.
            do {
                func attachment(_ n: Int) -> [UInt8] { [0, 0, 0, 0, UInt8(n >> 8), UInt8(n & 0xff)] + [UInt8](repeating: 7, count: n) }
                func announcing(_ n: Int) -> Hark_V1_Frame {
                    var d = Hark_V1_ChunkData()
                    d.manifestID = Data(repeating: 1, count: 32)
                    d.cipher = .xchacha20Poly1305
                    d.nonce = Data(repeating: 0, count: 24)
                    d.sealedLength = UInt32(n)
                    var f = Hark_V1_Frame()
                    f.chunkData = d
                    return f
                }
                var ping = Hark_V1_Frame()
                ping.ping = Hark_V1_Ping()
                let cases: [(String, (inout RecordLayer) throws -> [UInt8])] = [
                    ("unannounced", { _ in attachment(40) }),
                    ("record instead", { r in try r.seal(announcing(40)).flatMap { try framedMessage($0) } + r.seal(ping).flatMap { try framedMessage($0) } }),
                    ("other length", { r in try r.seal(announcing(40)).flatMap { try framedMessage($0) } + attachment(41) }),
                ]
                for (name, bytes) in cases {
                    let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: SigningKeyPair.generate(), asMember: false)
                    var r = records
                    s.write(try bytes(&r))
                    #expect(await s.closedByPeer(), "\(name)")
                }
            }
            // 2. A truncated event inside an otherwise valid Events frame.
            do {
                let (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: mallory)
                var r = records
                let head = try #require(try n.node.store.heads(group: g.id).first)
                let parent = try #require(try n.node.store.event(head))
                let content = { () -> Hark_V1_Content in var c = Hark_V1_Content(); var t = Hark_V1_Text(); t.text = "evil"; c.text = t; return c }()
                let body = try BodyCipher.seal(content, groupKey: g.key, groupID: g.id, author: mallory.publicKey, seq: 1)
                let e = try EventAuthor.make(kind: .message, groupID: g.id, author: mallory, seq: 1, selfParent: nil,
                                             parents: [parent], wallMs: 0, body: body)
                var signed = e.signedEvent
                signed.header = signed.header.prefix(signed.header.count / 2)
                var events = Hark_V1_Events()
                events.groupID = Data(g.id.bytes)
                events.events = [signed]
                var frame = Hark_V1_Frame()
                frame.events = events
                // give the node a moment to process the offer first
                try await Task.sleep(for: .milliseconds(200))
                for m in try r.seal(frame) { s.writeMessage(m) }
                #expect(await s.closedByPeer())
            }
            #expect(try n.node.store.eventCount(group: g.id) == countBefore)
            #expect(try await n.node.log(group: "ops", limit: nil).map(\.text) == ["before"])
            #expect(await eventually(5) { await n.node.status().connectedPeers == 0 })
        }
    }
}
