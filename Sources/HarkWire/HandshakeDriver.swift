import HarkCrypto
import HarkNoise

/// What to do with the result of ``HandshakeDriver/receive(_:)``.
public enum HandshakeAction: Sendable {
    /// Send this Noise message (length-prefix it); the handshake continues.
    case send([UInt8])
    /// Send this last Noise message; the handshake is complete and the peer verified.
    case sendAndComplete([UInt8], PeerHello)
    /// The handshake is complete and the peer verified; nothing to send.
    case complete(PeerHello)
}

/// hark's handshake over `Noise_XX_25519_ChaChaPoly_SHA256` with prologue `"hark/1"`
/// (Noise rev 34 §7.5): a pure state machine, no I/O, no clock.
///
///     initiator                       responder
///     start() → msg1 (payload empty)  ──►  receive(msg1) → .send(msg2: HandshakePayload)
///     receive(msg2) → .sendAndComplete(msg3: HandshakePayload, peer)  ──►  receive(msg3) → .complete(peer)
///
/// Each side checks the peer's identity signature against the Noise static key actually
/// received (`remoteStaticKey`). Messages are at most 65535 bytes; payloads at most 1024 bytes.
/// Any error aborts the driver (later calls throw `.aborted`). Value type; `Sendable`; use from
/// one task at a time.
public struct HandshakeDriver: Sendable {
    private enum State: Sendable { case idle, waiting, complete(PeerHello), failed }

    /// Largest handshake message either side sends or accepts: message 2 of XX with the largest
    /// payload, 32 (e) + 32 + 16 (encrypted s) + 1024 + 16 (encrypted payload) = 1120 bytes.
    /// Message 1 is 32 bytes, message 3 at most 1088. The stream decoder refuses a longer
    /// length prefix before the handshake is over, so an unauthenticated peer cannot make the
    /// node buffer a 64 KiB message.
    public static let maxMessageByteCount = 32 + 32 + 16 + WireLimits.maxHandshakePayloadByteCount + 16

    /// Noise messages the peer sends during the handshake: 2 to a responder (messages 1 and 3),
    /// 1 to an initiator (message 2).
    public static func peerMessageCount(role: NoiseRole) -> Int { role == .responder ? 2 : 1 }

    private let role: NoiseRole
    private let local: LocalHello
    private var noise: NoiseHandshake
    private var state = State.idle

    /// - Parameters:
    ///   - role: `.initiator` for the side that opened the TCP connection.
    ///   - local: our identity, Noise static key and hello fields.
    ///   - ephemeralKey: inject only for test vectors; nil makes a fresh random one.
    public init(role: NoiseRole, local: LocalHello, ephemeralKey: AgreementKeyPair? = nil) {
        self.role = role
        self.local = local
        self.noise = NoiseHandshake(role: role, prologue: WireLimits.prologue, staticKey: local.noiseStatic,
                                    ephemeralKey: ephemeralKey)
    }

    /// Starts the handshake.
    /// - Returns: for the initiator, message 1 (32 bytes, empty payload); for the responder, nil.
    /// - Throws: `.alreadyStarted` on a second call; `.aborted`; `.noise` (not expected).
    public mutating func start() throws(HandshakeError) -> [UInt8]? {
        switch state {
        case .idle: break
        case .failed: throw .aborted
        default: throw .alreadyStarted
        }
        state = .waiting
        guard role == .initiator else { return nil }
        return try guarded { (d: inout HandshakeDriver) throws(HandshakeError) -> [UInt8] in
            try d.noiseCall { (n: inout NoiseHandshake) throws(NoiseError) in try n.writeMessage(payload: []) }
        }
    }

    /// Processes one Noise message from the peer (without its length prefix).
    /// - Returns: what to send and/or the verified peer.
    /// - Throws: `.unexpectedMessage` before `start()` or after completion; `.noise(...)`;
    ///   `.malformedPayload`; `.payloadTooLarge`; `.invalidIdentitySignature`;
    ///   `.invalidLocalHello`; `.aborted` after an earlier error.
    public mutating func receive(_ message: [UInt8]) throws(HandshakeError) -> HandshakeAction {
        switch state {
        case .waiting: break
        case .failed: throw .aborted
        case .idle, .complete: throw .unexpectedMessage
        }
        return try guarded { (d: inout HandshakeDriver) throws(HandshakeError) -> HandshakeAction in try d.step(message) }
    }

    /// The verified peer, once complete.
    public var peer: PeerHello? {
        if case let .complete(hello) = state { return hello }
        return nil
    }

    /// True once the handshake completed and the peer was verified.
    public var isComplete: Bool { peer != nil }

    /// The transport CipherStates (Noise Split, rev 34 §5.2), oriented for this side.
    ///
    /// Call it ONCE: each call returns fresh CipherStates with the same keys and nonce 0, and
    /// using two of them would reuse nonces.
    /// - Throws: `.notComplete` before completion.
    public func transport() throws(HandshakeError) -> NoiseTransport {
        guard isComplete else { throw .notComplete }
        do { return try noise.split() } catch { throw .noise(error) }
    }

    // MARK: - Steps

    private mutating func step(_ message: [UInt8]) throws(HandshakeError) -> HandshakeAction {
        let payload = try noiseCall { (n: inout NoiseHandshake) throws(NoiseError) in try n.readMessage(message) }
        switch role {
        case .responder where !noise.isComplete:   // message 1
            guard payload.isEmpty else { throw .malformedPayload("message 1 payload must be empty, got \(payload.count) bytes") }
            let ours = try HandshakePayloadCodec.makePayload(local)
            return .send(try noiseCall { (n: inout NoiseHandshake) throws(NoiseError) in try n.writeMessage(payload: ours) })
        case .responder:                            // message 3
            let hello = try verify(payload)
            state = .complete(hello)
            return .complete(hello)
        case .initiator:                            // message 2
            guard let remote = noise.remoteStaticKey else { throw .unexpectedMessage }
            // Verify before answering, so we never reveal our identity to an unverified peer.
            let early = try HandshakePayloadCodec.verifyPayload(payload, remoteStaticKey: remote, handshakeHash: [])
            let ours = try HandshakePayloadCodec.makePayload(local)
            let msg3 = try noiseCall { (n: inout NoiseHandshake) throws(NoiseError) in try n.writeMessage(payload: ours) }
            let hello = PeerHello(peerID: early.peerID, displayName: early.displayName, instanceToken: early.instanceToken,
                                  listenPort: early.listenPort, handshakeHash: noise.handshakeHash,
                                  remoteStaticKey: early.remoteStaticKey, features: early.features)   // h is final only after msg3
            state = .complete(hello)
            return .sendAndComplete(msg3, hello)
        }
    }

    private func verify(_ payload: [UInt8]) throws(HandshakeError) -> PeerHello {
        guard let remote = noise.remoteStaticKey else { throw .unexpectedMessage }
        return try HandshakePayloadCodec.verifyPayload(payload, remoteStaticKey: remote, handshakeHash: noise.handshakeHash)
    }

    private mutating func noiseCall<T>(_ body: (inout NoiseHandshake) throws(NoiseError) -> T) throws(HandshakeError) -> T {
        do { return try body(&noise) } catch { throw .noise(error) }
    }

    private mutating func guarded<T>(_ body: (inout HandshakeDriver) throws(HandshakeError) -> T) throws(HandshakeError) -> T {
        do { return try body(&self) } catch {
            state = .failed
            throw error
        }
    }
}
