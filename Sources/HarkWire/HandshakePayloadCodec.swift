import Foundation
import HarkCrypto
import HarkWireProto
import SwiftProtobuf

/// Builds and checks `Hark_V1_HandshakePayload`, the payload of XX messages 2 and 3.
/// Stateless; thread-safe.
public enum HandshakePayloadCodec {
    /// The bytes the identity key signs: `"hark-noise-static-v1:" ‖ noiseStaticPublicKey` (21 + 32 bytes).
    public static func signedMessage(noiseStaticPublicKey: [UInt8]) -> [UInt8] {
        Array(WireLimits.staticKeySignatureDomain.utf8) + noiseStaticPublicKey
    }

    /// The 64-byte Ed25519 signature binding `noiseStaticPublicKey` to `identity`.
    public static func identitySignature(identity: SigningKeyPair, noiseStaticPublicKey: [UInt8]) -> [UInt8] {
        identity.signature(for: signedMessage(noiseStaticPublicKey: noiseStaticPublicKey))
    }

    /// The serialized payload for `hello` (≤ 1024 bytes).
    /// - Throws: `HandshakeError.invalidLocalHello` if the display name exceeds 64 bytes, the
    ///   token is not 8 bytes, or the result would exceed 1024 bytes.
    public static func makePayload(_ hello: LocalHello) throws(HandshakeError) -> [UInt8] {
        let nameBytes = hello.displayName.utf8.count
        guard nameBytes <= WireLimits.maxDisplayNameByteCount else {
            throw .invalidLocalHello("display name is \(nameBytes) bytes of UTF-8, limit \(WireLimits.maxDisplayNameByteCount)")
        }
        guard hello.instanceToken.count == WireLimits.instanceTokenByteCount else {
            throw .invalidLocalHello("instance token is \(hello.instanceToken.count) bytes, must be \(WireLimits.instanceTokenByteCount)")
        }
        var payload = Hark_V1_HandshakePayload()
        payload.identityKey = Data(hello.identity.publicKey.bytes)
        payload.identitySig = Data(hello.identitySignatureOverride
            ?? identitySignature(identity: hello.identity, noiseStaticPublicKey: hello.noiseStatic.publicKey))
        payload.displayName = hello.displayName
        payload.instanceToken = Data(hello.instanceToken)
        payload.listenPort = UInt32(hello.listenPort)
        payload.features = hello.features
        let bytes: [UInt8]
        do { bytes = try payload.serializedBytes() }
        catch { throw .invalidLocalHello("payload does not serialize: \(error)") }
        guard bytes.count <= WireLimits.maxHandshakePayloadByteCount else {
            throw .invalidLocalHello("payload is \(bytes.count) bytes, limit \(WireLimits.maxHandshakePayloadByteCount)")
        }
        return bytes
    }

    /// Parses and verifies a peer's payload against the Noise static key it used.
    /// - Parameters:
    ///   - bytes: the decrypted payload of message 2 or 3.
    ///   - remoteStaticKey: the 32-byte static key the handshake delivered (`remoteStaticKey`).
    ///   - handshakeHash: the final handshake hash, copied into the result.
    /// - Throws: `.payloadTooLarge`, `.malformedPayload`, `.invalidIdentitySignature`.
    public static func verifyPayload(_ bytes: [UInt8], remoteStaticKey: [UInt8], handshakeHash: [UInt8]) throws(HandshakeError) -> PeerHello {
        guard bytes.count <= WireLimits.maxHandshakePayloadByteCount else { throw .payloadTooLarge(bytes.count) }
        let payload: Hark_V1_HandshakePayload
        do { payload = try Hark_V1_HandshakePayload(serializedBytes: bytes) }
        catch { throw .malformedPayload("not a HandshakePayload protobuf: \(error)") }
        let key: SigningPublicKey
        do { key = try SigningPublicKey(bytes: Array(payload.identityKey)) }
        catch { throw .malformedPayload("identity_key is \(payload.identityKey.count) bytes, must be 32") }
        guard payload.identitySig.count == Ed25519.signatureByteCount else {
            throw .malformedPayload("identity_sig is \(payload.identitySig.count) bytes, must be 64")
        }
        let nameBytes = payload.displayName.utf8.count
        guard nameBytes <= WireLimits.maxDisplayNameByteCount else {
            throw .malformedPayload("display_name is \(nameBytes) bytes, limit \(WireLimits.maxDisplayNameByteCount)")
        }
        guard payload.instanceToken.count == WireLimits.instanceTokenByteCount else {
            throw .malformedPayload("instance_token is \(payload.instanceToken.count) bytes, must be 8")
        }
        guard let port = UInt16(exactly: payload.listenPort) else {
            throw .malformedPayload("listen_port \(payload.listenPort) exceeds 65535")
        }
        guard key.isValidSignature(Array(payload.identitySig), for: signedMessage(noiseStaticPublicKey: remoteStaticKey)) else {
            throw .invalidIdentitySignature
        }
        return PeerHello(peerID: PeerID(key), displayName: payload.displayName, instanceToken: Array(payload.instanceToken),
                         listenPort: port, handshakeHash: handshakeHash, remoteStaticKey: remoteStaticKey,
                         features: payload.features)
    }
}
