import HarkCrypto
import HarkNoise

/// X25519 work in one Noise XX handshake, counted over both sides:
/// each side makes one ephemeral key pair (a fixed-base scalar multiplication) and performs
/// three DH (variable-base): initiator ee, es, se; responder ee, es, se. Static keys are made
/// once, outside the measured loop.
private let variableBaseDHPerHandshake = 6
private let fixedBaseKeygenPerHandshake = 2

func runNoiseBenchmark() {
    let initiatorStatic = AgreementKeyPair.generate()
    let responderStatic = AgreementKeyPair.generate()
    let prologue = Array("hark/1".utf8)

    // 1. The X25519 bound, measured in this same run.
    let peer = AgreementKeyPair.generate()
    var secret = SecureRandom.bytes(32)
    let dh = measure {
        blackHole(try? X25519.sharedSecret(secretKey: secret, publicKey: peer.publicKey))
        secret[0] &+= 1
    }
    let keygen = measure {
        blackHole(try? AgreementKeyPair(secretKey: secret))
        secret[1] &+= 1
    }
    let secondsPerHandshakeBound = Double(variableBaseDHPerHandshake) / dh.perSecond
        + Double(fixedBaseKeygenPerHandshake) / keygen.perSecond
    let bound = 1 / secondsPerHandshakeBound

    // 2. Full handshakes, both sides in-process, payloads empty, then Split on both sides.
    var failures = 0
    let handshake = measure {
        do {
            var i = NoiseHandshake(role: .initiator, prologue: prologue, staticKey: initiatorStatic)
            var r = NoiseHandshake(role: .responder, prologue: prologue, staticKey: responderStatic)
            _ = try r.readMessage(try i.writeMessage(payload: []))
            _ = try i.readMessage(try r.writeMessage(payload: []))
            _ = try r.readMessage(try i.writeMessage(payload: []))
            blackHole((try i.split(), try r.split()))
        } catch {
            failures += 1
        }
    }
    if failures > 0 { print("noise: \(failures) handshakes FAILED; the rate below is meaningless") }

    print("noise.handshake \(formatRate(handshake.perSecond)) /s   x25519 bound \(formatRate(bound)) /s   ratio \(formatFixed2(handshake.perSecond / bound))")
    print("x25519.dh       \(formatRate(dh.perSecond)) /s   x25519.keygen \(formatRate(keygen.perSecond)) /s   per handshake (both sides): \(variableBaseDHPerHandshake) DH + \(fixedBaseKeygenPerHandshake) keygen")
    print("iterations: handshake \(handshake.iterations) in \(handshake.duration), dh \(dh.iterations) in \(dh.duration), keygen \(keygen.iterations) in \(keygen.duration)")
}
