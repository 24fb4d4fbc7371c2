import HarkCrypto
@testable import HarkNoise

/// Two handshakes driven to completion in memory; returns both sides' transports.
struct HandshakePair {
    var initiator: NoiseHandshake
    var responder: NoiseHandshake
    var payloadsSeenByResponder: [[UInt8]] = []
    var payloadsSeenByInitiator: [[UInt8]] = []

    init(prologue: [UInt8] = Array("hark/1".utf8),
         initiatorStatic: AgreementKeyPair = .generate(), responderStatic: AgreementKeyPair = .generate()) {
        initiator = NoiseHandshake(role: .initiator, prologue: prologue, staticKey: initiatorStatic)
        responder = NoiseHandshake(role: .responder, prologue: prologue, staticKey: responderStatic)
    }

    mutating func run(payloads: [[UInt8]] = [[1], [2, 2], [3, 3, 3]]) throws(NoiseError) {
        let m1 = try initiator.writeMessage(payload: payloads[0])
        payloadsSeenByResponder.append(try responder.readMessage(m1))
        let m2 = try responder.writeMessage(payload: payloads[1])
        payloadsSeenByInitiator.append(try initiator.readMessage(m2))
        let m3 = try initiator.writeMessage(payload: payloads[2])
        payloadsSeenByResponder.append(try responder.readMessage(m3))
    }
}

func hex(_ text: String) -> [UInt8] { try! Hex.decode(text) }
