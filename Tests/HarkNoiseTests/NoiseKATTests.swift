import Foundation
import HarkCrypto
import Testing
@testable import HarkNoise

/// The fixed-key vector in Interop/xx_25519_chachapoly_sha256.kat.json (see its "source").
struct KnownAnswerVector: Decodable {
    struct Message: Decodable { let payload: String; let ciphertext: String }
    let name: String
    let prologue: String
    let init_static: String
    let init_ephemeral: String
    let resp_static: String
    let resp_ephemeral: String
    let messages: [Message]
    let handshake_hash: String
    let initiator_message_65536_after_rekey: Message

    static func load() throws -> KnownAnswerVector {
        let url = try #require(Bundle.module.url(forResource: "Interop/xx_25519_chachapoly_sha256.kat", withExtension: "json")
            ?? Bundle.module.url(forResource: "xx_25519_chachapoly_sha256.kat", withExtension: "json", subdirectory: "Interop"))
        return try JSONDecoder().decode(KnownAnswerVector.self, from: Data(contentsOf: url))
    }
}

@Suite("Noise known-answer vector")
struct NoiseKATTests {
    @Test("fixed keys give exactly the published ciphertexts and handshake hash")
    func knownAnswer() throws {
        let v = try KnownAnswerVector.load()
        #expect(v.name == NoiseHandshake.protocolName)
        var i = NoiseHandshake(role: .initiator, prologue: hex(v.prologue),
                               staticKey: try AgreementKeyPair(secretKey: hex(v.init_static)),
                               ephemeralKey: try AgreementKeyPair(secretKey: hex(v.init_ephemeral)))
        var r = NoiseHandshake(role: .responder, prologue: hex(v.prologue),
                               staticKey: try AgreementKeyPair(secretKey: hex(v.resp_static)),
                               ephemeralKey: try AgreementKeyPair(secretKey: hex(v.resp_ephemeral)))
        try #require(v.messages.count == 6)
        let m = v.messages
        let m1 = try i.writeMessage(payload: hex(m[0].payload))
        #expect(Hex.encode(m1) == m[0].ciphertext, "message 1")
        #expect(try r.readMessage(m1) == hex(m[0].payload))
        let m2 = try r.writeMessage(payload: hex(m[1].payload))
        #expect(Hex.encode(m2) == m[1].ciphertext, "message 2")
        #expect(try i.readMessage(m2) == hex(m[1].payload))
        let m3 = try i.writeMessage(payload: hex(m[2].payload))
        #expect(Hex.encode(m3) == m[2].ciphertext, "message 3")
        #expect(try r.readMessage(m3) == hex(m[2].payload))
        #expect(i.remoteStaticKey == (try AgreementKeyPair(secretKey: hex(v.resp_static))).publicKey)
        #expect(Hex.encode(i.handshakeHash) == v.handshake_hash)
        #expect(Hex.encode(r.handshakeHash) == v.handshake_hash)
        var ti = try i.split(), tr = try r.split()
        for (n, m) in v.messages.dropFirst(3).enumerated() {
            let fromInitiator = n % 2 == 1   // message 4 is the responder's, as in cacophony
            let ct = fromInitiator ? try ti.encrypt(hex(m.payload)) : try tr.encrypt(hex(m.payload))
            #expect(Hex.encode(ct) == m.ciphertext, "transport message \(n + 4)")
            #expect(try (fromInitiator ? tr.decrypt(ct) : ti.decrypt(ct)) == hex(m.payload))
        }
        // hark's automatic Rekey: the initiator's message number 65536 (nonce 65536) is sealed
        // under Rekey(k); noiseprotocol rekeyed explicitly at the same point.
        while ti.sentMessageCount < NoiseTransport.rekeyInterval { _ = try tr.decrypt(try ti.encrypt([])) }
        let after = try ti.encrypt(hex(v.initiator_message_65536_after_rekey.payload))
        #expect(Hex.encode(after) == v.initiator_message_65536_after_rekey.ciphertext)
        #expect(try tr.decrypt(after) == hex(v.initiator_message_65536_after_rekey.payload))
    }
}
