import Foundation
import HarkCrypto
import HarkNoise
import HarkWire
import HarkWireProto

func makeHello(name: String = "alice", port: UInt16 = 4242, signatureOverride: [UInt8]? = nil) -> LocalHello {
    LocalHello(identity: .generate(), noiseStatic: .generate(), displayName: name,
               instanceToken: SecureRandom.bytes(8), listenPort: port, identitySignatureOverride: signatureOverride)
}

/// Runs both drivers to completion in memory.
func completeHandshake(_ a: LocalHello, _ b: LocalHello) throws -> (HandshakeDriver, HandshakeDriver, PeerHello, PeerHello) {
    var initiator = HandshakeDriver(role: .initiator, local: a)
    var responder = HandshakeDriver(role: .responder, local: b)
    guard let m1 = try initiator.start() else { throw TestFailure("initiator produced no message 1") }
    guard try responder.start() == nil else { throw TestFailure("responder produced a message on start") }
    guard case let .send(m2) = try responder.receive(m1) else { throw TestFailure("responder did not answer message 1") }
    guard case let .sendAndComplete(m3, seenByInitiator) = try initiator.receive(m2) else {
        throw TestFailure("initiator did not finish on message 2")
    }
    guard case let .complete(seenByResponder) = try responder.receive(m3) else { throw TestFailure("responder did not complete") }
    return (initiator, responder, seenByInitiator, seenByResponder)
}

/// Two record layers joined by a completed handshake.
func recordLayers() throws -> (RecordLayer, RecordLayer) {
    let (i, r, _, _) = try completeHandshake(makeHello(), makeHello(name: "bob"))
    return (RecordLayer(transport: try i.transport()), RecordLayer(transport: try r.transport()))
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A `Needs` frame whose serialized size is about `byteCount` bytes.
func needsFrame(byteCount: Int, seed: UInt8 = 7) -> Hark_V1_Frame {
    var needs = Hark_V1_Needs()
    needs.groupID = Data((0..<max(0, byteCount - 5)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    var frame = Hark_V1_Frame()
    frame.needs = needs
    return frame
}
