import Foundation
import HarkCrypto
import HarkNoise
import Testing

/// HarkNoise against noiseprotocol 0.3.1 (an independent Python implementation) over TCP on
/// 127.0.0.1. Needs scripts/test-setup.sh; fails, with that hint, when Python is not prepared.
@Suite("Noise interop with noiseprotocol", .serialized)
struct NoiseInteropTests {
    @Test("handshake and transport with the Python peer", arguments: [NoiseRole.initiator, .responder])
    func interop(swiftRole: NoiseRole) throws {
        let prologue = Array("hark/1".utf8)
        let peer = try PythonPeer.start(role: swiftRole == .initiator ? "responder" : "initiator", prologue: prologue)
        defer { if peer.process.isRunning { peer.process.terminate() } }   // only on early failure; it also self-exits after 20 s
        let socket = try LoopbackFramedSocket(port: peer.port)
        let staticKey = AgreementKeyPair.generate()
        var hs = NoiseHandshake(role: swiftRole, prologue: prologue, staticKey: staticKey)

        for n in 1...3 {
            if hs.isMyTurnToWrite {
                try socket.sendFrame(try hs.writeMessage(payload: Array("swift-hs-\(n)".utf8)))
            } else {
                let payload = try hs.readMessage(try socket.receiveFrame())
                #expect(payload == Array("py-hs-\(n)".utf8), "handshake payload \(n)")
            }
        }
        try #require(hs.isComplete)
        var transport = try hs.split()

        let messages = [Array("swift-tr-1".utf8), [], SecureRandom.bytes(1000), [UInt8](repeating: 0x5a, count: 65519 - 5)]
        try socket.sendFrame(try transport.encrypt(Array("\(messages.count)".utf8)))
        for m in messages {
            try socket.sendFrame(try transport.encrypt(m))
            #expect(try transport.decrypt(try socket.receiveFrame()) == Array("echo:".utf8) + m)
        }
        #expect(try transport.decrypt(try socket.receiveFrame()) == [UInt8](repeating: 0xab, count: 65519))

        let report = try peer.finish()
        #expect(report["handshake_hash"] as? String == Hex.encode(transport.handshakeHash))
        #expect(report["remote_static"] as? String == Hex.encode(staticKey.publicKey))
        #expect((report["local_static"] as? String).map { try? Hex.decode($0) } == hs.remoteStaticKey)
        let received = (report["received"] as? [String]) ?? []
        let expectedHandshake = (swiftRole == .initiator ? [1, 3] : [2]).map { Hex.encode(Array("swift-hs-\($0)".utf8)) }
        #expect(received == expectedHandshake + messages.map(Hex.encode))
    }
}
