import HarkCrypto

/// What this node tells a peer in the handshake, and the keys it uses.
/// Value type; `Sendable`.
public struct LocalHello: Sendable {
    /// The node's long-term Ed25519 identity; its public key becomes our `PeerID` at the peer.
    public var identity: SigningKeyPair
    /// The node's X25519 Noise static key pair, bound to `identity` by a signature.
    public var noiseStatic: AgreementKeyPair
    /// Human-readable name, at most 64 bytes of UTF-8.
    public var displayName: String
    /// The node's per-start token: exactly 8 bytes.
    public var instanceToken: [UInt8]
    /// TCP port we accept connections on (0 = none).
    public var listenPort: UInt16
    /// For tests of peers that lie: when set, these bytes are sent instead of the real identity
    /// signature. Leave nil in production.
    public var identitySignatureOverride: [UInt8]?
    /// Protocol features this node speaks (`HandshakePayload.features`, PROTOCOL.md §3.1).
    public var features: UInt32

    public init(identity: SigningKeyPair, noiseStatic: AgreementKeyPair, displayName: String,
                instanceToken: [UInt8], listenPort: UInt16, identitySignatureOverride: [UInt8]? = nil,
                features: UInt32 = 0) {
        self.features = features
        self.identity = identity
        self.noiseStatic = noiseStatic
        self.displayName = displayName
        self.instanceToken = instanceToken
        self.listenPort = listenPort
        self.identitySignatureOverride = identitySignatureOverride
    }
}

/// What a peer proved and told us in a completed handshake. Value type; `Sendable`.
public struct PeerHello: Sendable, Equatable {
    /// The peer's identity, verified: it signed the Noise static key it used.
    public let peerID: PeerID
    /// The peer's display name (≤ 64 B UTF-8); informational, not authenticated beyond the channel.
    public let displayName: String
    /// The peer's per-start token (8 bytes).
    public let instanceToken: [UInt8]
    /// The TCP port the peer accepts connections on (0 = none).
    public let listenPort: UInt16
    /// The final Noise handshake hash (32 bytes), equal on both sides; for channel binding.
    public let handshakeHash: [UInt8]
    /// The peer's Noise static public key (32 bytes) as received in the handshake.
    public let remoteStaticKey: [UInt8]
    /// Protocol features the peer speaks (PROTOCOL.md §3.1); unknown bits are ignored.
    public var features: UInt32 = 0

    /// Whether the peer speaks epidemic broadcast (PROTOCOL.md §6.4).
    public var speaksEpidemicBroadcast: Bool { features & ProtocolFeatures.epidemicBroadcast != 0 }

    /// Whether the peer speaks joining by code (PROTOCOL.md §5.7).
    public var speaksJoinByCode: Bool { features & ProtocolFeatures.joinByCode != 0 }
}

/// Bits of `HandshakePayload.features` (PROTOCOL.md §3.1). A node sets the bits of the features
/// it speaks and ignores bits it does not know.
public enum ProtocolFeatures {
    /// Bit 0: epidemic broadcast — `IHave`, `Graft`, `Prune` frames and `Events.push` (§6.4).
    public static let epidemicBroadcast: UInt32 = 1 << 0
    /// Bit 4: joining by code — the `JoinQuery` … `JoinAnswer` frames (§5.7).
    public static let joinByCode: UInt32 = 1 << 4
}
