/// Control types of trust and verification (docs/CONTROL.md: `safety_number`, `pair.*`, the
/// `trust` watch event).

/// Parameters that name one peer: a peer ID (`hk…`), a fingerprint prefix (≥ 4 hex digits, dashes
/// optional) or a display name. A name or prefix that matches several keys is `ambiguous`.
public struct PeerRefParams: Codable, Sendable {
    public var peer: String
    public init(peer: String) { self.peer = peer }
}

/// `pair.confirm` parameters: the code the user saw and confirmed (digits; spaces ignored).
public struct PairConfirmParams: Codable, Sendable {
    public var peer: String
    public var code: String
    public init(peer: String, code: String) { self.peer = peer; self.code = code }
}

/// `safety_number` result.
public struct SafetyNumberView: Codable, Sendable, Equatable {
    public var peerId: String
    public var fingerprint: String
    public var displayName: String
    /// 60 digits (PROTOCOL.md §1.1); show them in 12 groups of 5.
    public var safetyNumber: String
    public var verified: Bool
    public var warning: String?
    public init(peerId: String, fingerprint: String, displayName: String, safetyNumber: String, verified: Bool, warning: String?) {
        self.peerId = peerId; self.fingerprint = fingerprint; self.displayName = displayName
        self.safetyNumber = safetyNumber; self.verified = verified; self.warning = warning
    }
}

/// A pairing in progress (`pair.*` results).
public struct PairView: Codable, Sendable, Equatable {
    public var peerId: String
    public var fingerprint: String
    public var displayName: String
    /// `initiator` (this node sent the commitment) or `responder`.
    public var role: String
    /// `waiting` (for the peer's next step), `compare` (code ready: compare and confirm),
    /// `confirmed` (this side's user confirmed), `failed` (see `reason`).
    public var state: String
    /// `123 456`, once both nonces are known.
    public var code: String?
    public var peerConfirmed: Bool
    /// The peer's identity key is marked verified on this node.
    public var verified: Bool
    public var reason: String?
    public var warning: String?
    public init(peerId: String, fingerprint: String, displayName: String, role: String, state: String, code: String?,
                peerConfirmed: Bool, verified: Bool, reason: String?, warning: String?) {
        self.peerId = peerId; self.fingerprint = fingerprint; self.displayName = displayName; self.role = role
        self.state = state; self.code = code; self.peerConfirmed = peerConfirmed; self.verified = verified
        self.reason = reason; self.warning = warning
    }
}

/// `trust` watch event data.
public struct TrustView: Codable, Sendable, Equatable {
    public var peerId: String
    public var displayName: String
    public var fingerprint: String
    /// `name_conflict` (a new key claims a name bound to another key), `pair_request` (the peer
    /// started `hark pair`), `verified` (this node's user confirmed the code), `peer_confirmed`,
    /// `pair_failed` (refused, cancelled, or a commitment that did not match).
    public var change: String
    /// Human-readable detail (e.g. which key the name was bound to).
    public var detail: String?
    /// For `name_conflict`: the fingerprint of the key the name was bound to before.
    public var otherFingerprint: String?
    public init(peerId: String, displayName: String, fingerprint: String, change: String, detail: String? = nil,
                otherFingerprint: String? = nil) {
        self.peerId = peerId; self.displayName = displayName; self.fingerprint = fingerprint; self.change = change
        self.detail = detail; self.otherFingerprint = otherFingerprint
    }
}

/// `peer.alias` parameters: the peer (any form of `PeerRefParams.peer`) and its new local name;
/// nil or empty clears the alias.
public struct PeerAliasParams: Codable, Sendable {
    public var peer: String
    public var alias: String?
    public init(peer: String, alias: String?) { self.peer = peer; self.alias = alias }
}
