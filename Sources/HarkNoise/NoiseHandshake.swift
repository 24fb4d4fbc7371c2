import HarkCrypto

/// Which side of the handshake this is (Noise rev 34 §5.3 `initiator` flag).
public enum NoiseRole: Sendable {
    /// Sends the first message (`-> e`) and the third (`-> s, se`).
    case initiator
    /// Sends the second message (`<- e, ee, s, es`).
    case responder
}

/// The Noise handshake `Noise_XX_25519_ChaChaPoly_SHA256` (Noise rev 34 §5.3 HandshakeState,
/// pattern XX of §7.5):
///
///     -> e
///     <- e, ee, s, es
///     -> s, se
///
/// A pure state machine: no I/O, no clock, no randomness other than the ephemeral key made in
/// `init` when none is injected. Value type; `Sendable`; use one instance from one task at a time
/// (as with any mutable value).
///
/// Sizes of the messages (payload length `p`): message 1 is 32 + p bytes, message 2 is
/// 32 + 48 + p + 16, message 3 is 48 + p + 16; none may exceed
/// ``maxMessageByteCount`` (65535, rev 34 §3).
///
/// Any error from `writeMessage` or `readMessage` aborts the handshake (rev 34 §5.3); later calls
/// throw ``NoiseError/handshakeFailed``.
public struct NoiseHandshake: Sendable {
    /// The full protocol name (rev 34 §8): exactly 32 bytes, so `h` starts as the name itself.
    public static let protocolName = "Noise_XX_25519_ChaChaPoly_SHA256"
    /// Largest Noise message, handshake or transport, in bytes (rev 34 §3).
    public static let maxMessageByteCount = 65535

    private static let dhLength = X25519.keyByteCount        // DHLEN, 32 B
    private static let tagLength = ChaChaPoly.tagByteCount   // 16 B

    private enum Phase: Sendable { case running, failed }

    private let role: NoiseRole
    private var symmetric: SymmetricState
    private let localStatic: AgreementKeyPair
    private let localEphemeral: AgreementKeyPair
    private var remoteEphemeral: [UInt8]?
    private var remoteStatic: [UInt8]?
    /// Index of the next XX message, 0…3; 3 means complete.
    private var step = 0
    private var phase = Phase.running

    /// Initialize(...) of rev 34 §5.3 for XX (no pre-messages): InitializeSymmetric(protocolName),
    /// then MixHash(prologue).
    ///
    /// - Parameters:
    ///   - role: initiator or responder.
    ///   - prologue: any bytes both sides agree on out of band (rev 34 §6); a mismatch makes the
    ///     first encrypted payload fail with `.decryptFailed`.
    ///   - staticKey: this side's long-term X25519 key pair (32-byte keys).
    ///   - ephemeralKey: injected ephemeral key pair for test vectors; nil (the default) makes a
    ///     fresh random one. Never reuse an ephemeral key outside tests.
    public init(role: NoiseRole, prologue: [UInt8], staticKey: AgreementKeyPair, ephemeralKey: AgreementKeyPair? = nil) {
        self.role = role
        self.localStatic = staticKey
        self.localEphemeral = ephemeralKey ?? AgreementKeyPair.generate()
        var symmetric = SymmetricState(protocolName: Self.protocolName)
        symmetric.mixHash(prologue)
        self.symmetric = symmetric
    }

    /// True once all three messages have been written or read; then call ``split()``.
    public var isComplete: Bool { step == 3 && phase == .running }

    /// True when the next operation must be ``writeMessage(payload:)``: the initiator writes
    /// messages 1 and 3, the responder message 2. False when complete or failed.
    public var isMyTurnToWrite: Bool {
        guard phase == .running, step < 3 else { return false }
        return (step % 2 == 0) == (role == .initiator)
    }

    /// The peer's 32-byte static X25519 public key, once received (after message 2 for the
    /// initiator, message 3 for the responder). It is authenticated only by the handshake; bind it
    /// to an identity yourself.
    public var remoteStaticKey: [UInt8]? { remoteStatic }

    /// The current handshake hash `h` (32 bytes). After completion it is the channel-binding
    /// value of rev 34 §11.2, equal on both sides.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// WriteMessage(payload, message_buffer) of rev 34 §5.3 for the next XX message.
    ///
    /// - Parameter payload: bytes to send; encrypted in messages 2 and 3, in clear in message 1.
    /// - Returns: the handshake message (see the type's size table), ≤ 65535 bytes.
    /// - Throws: `.wrongTurn` if the peer is due to write; `.handshakeAlreadyComplete`;
    ///   `.handshakeFailed` after an earlier error; `.messageTooLarge(byteCount:limit:)` if the
    ///   message would exceed 65535 bytes (the handshake is then aborted too); `.weakKey` if the
    ///   peer's key is of low order.
    public mutating func writeMessage(payload: [UInt8]) throws(NoiseError) -> [UInt8] {
        try checkCanProceed(writing: true)
        let overhead: Int
        switch step {
        case 0: overhead = Self.dhLength
        case 1: overhead = Self.dhLength + Self.dhLength + Self.tagLength + Self.tagLength
        default: overhead = Self.dhLength + Self.tagLength + Self.tagLength
        }
        guard overhead + payload.count <= Self.maxMessageByteCount else {
            phase = .failed
            throw .messageTooLarge(byteCount: overhead + payload.count, limit: Self.maxMessageByteCount)
        }
        var next = self
        do {
            let message = try next.write(payload: payload)
            next.step += 1
            self = next
            return message
        } catch {
            phase = .failed
            throw error
        }
    }

    /// ReadMessage(message, payload_buffer) of rev 34 §5.3 for the next XX message.
    ///
    /// - Parameter message: one whole handshake message as the peer wrote it (≤ 65535 bytes).
    /// - Returns: the payload the peer sent.
    /// - Throws: `.wrongTurn` if we are due to write; `.handshakeAlreadyComplete`;
    ///   `.handshakeFailed`; `.messageTooLarge(byteCount:limit:)`;
    ///   `.messageTooShort(byteCount:minimum:)`; `.decryptFailed` (tampering, different prologue,
    ///   wrong keys); `.weakKey`. Any of these aborts the handshake.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        try checkCanProceed(writing: false)
        var next = self
        do throws(NoiseError) {
            guard message.count <= Self.maxMessageByteCount else {
                throw NoiseError.messageTooLarge(byteCount: message.count, limit: Self.maxMessageByteCount)
            }
            let payload = try next.read(message)
            next.step += 1
            self = next
            return payload
        } catch {
            phase = .failed
            throw error
        }
    }

    /// Split() of rev 34 §5.2 after the last message: the two transport CipherStates, oriented so
    /// that this side encrypts with its sending one.
    ///
    /// Non-mutating: calling it twice yields two transports with the same keys and nonces; call it
    /// once and keep the result.
    /// - Throws: `.handshakeNotComplete` before the third message has been written or read.
    public func split() throws(NoiseError) -> NoiseTransport {
        guard isComplete else { throw .handshakeNotComplete }
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        switch role {
        case .initiator:
            return NoiseTransport(sending: initiatorToResponder, receiving: responderToInitiator,
                                  handshakeHash: symmetric.handshakeHash)
        case .responder:
            return NoiseTransport(sending: responderToInitiator, receiving: initiatorToResponder,
                                  handshakeHash: symmetric.handshakeHash)
        }
    }

    // MARK: - Tokens

    private func checkCanProceed(writing: Bool) throws(NoiseError) {
        guard phase == .running else { throw .handshakeFailed }
        guard step < 3 else { throw .handshakeAlreadyComplete }
        guard isMyTurnToWrite == writing else { throw .wrongTurn }
    }

    private mutating func write(payload: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out: [UInt8] = []
        switch step {
        case 0: // -> e
            out += tokenWriteE()
        case 1: // <- e, ee, s, es
            out += tokenWriteE()
            try mixDH(localEphemeral, remoteEphemeral)          // ee
            out += try symmetric.encryptAndHash(localStatic.publicKey)   // s
            try mixDH(localStatic, remoteEphemeral)             // es (responder: DH(s, re))
        default: // -> s, se
            out += try symmetric.encryptAndHash(localStatic.publicKey)   // s
            try mixDH(localStatic, remoteEphemeral)             // se (initiator: DH(s, re))
        }
        out += try symmetric.encryptAndHash(payload)
        return out
    }

    private mutating func read(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        let staticLength = Self.dhLength + Self.tagLength   // encrypted s: 48 B
        var rest = ArraySlice(message)
        switch step {
        case 0: // -> e
            try requireAtLeast(message, Self.dhLength)
            rest = tokenReadE(rest)
        case 1: // <- e, ee, s, es
            try requireAtLeast(message, Self.dhLength + staticLength + Self.tagLength)
            rest = tokenReadE(rest)
            try mixDH(localEphemeral, remoteEphemeral)                     // ee
            remoteStatic = try symmetric.decryptAndHash(Array(rest.prefix(staticLength)))   // s
            rest = rest.dropFirst(staticLength)
            try mixDH(localEphemeral, remoteStatic)                        // es (initiator: DH(e, rs))
        default: // -> s, se
            try requireAtLeast(message, staticLength + Self.tagLength)
            remoteStatic = try symmetric.decryptAndHash(Array(rest.prefix(staticLength)))   // s
            rest = rest.dropFirst(staticLength)
            try mixDH(localEphemeral, remoteStatic)                        // se (responder: DH(e, rs))
        }
        return try symmetric.decryptAndHash(Array(rest))
    }

    private func requireAtLeast(_ message: [UInt8], _ minimum: Int) throws(NoiseError) {
        guard message.count >= minimum else { throw .messageTooShort(byteCount: message.count, minimum: minimum) }
    }

    /// Token `e` when writing (§5.3): append e.public_key, MixHash(e.public_key). No PSK, so no MixKey.
    private mutating func tokenWriteE() -> [UInt8] {
        symmetric.mixHash(localEphemeral.publicKey)
        return localEphemeral.publicKey
    }

    /// Token `e` when reading (§5.3): re = next 32 bytes, MixHash(re).
    private mutating func tokenReadE(_ rest: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let re = Array(rest.prefix(Self.dhLength))
        remoteEphemeral = re
        symmetric.mixHash(re)
        return rest.dropFirst(Self.dhLength)
    }

    /// MixKey(DH(local, remote)) (§5.3 tokens ee, es, se).
    private mutating func mixDH(_ local: AgreementKeyPair, _ remote: [UInt8]?) throws(NoiseError) {
        guard let remote else { preconditionFailure("XX token order guarantees the remote key is known here") }
        var shared: [UInt8]
        do { shared = try X25519.sharedSecret(secretKey: local.secretKey, publicKey: remote) }
        catch .weakPublicKey { throw .weakKey }
        catch { throw .cryptoFailure(error) }
        symmetric.mixKey(shared)
        secureZero(&shared)
    }
}
