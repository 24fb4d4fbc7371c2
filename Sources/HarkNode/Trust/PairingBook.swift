import Foundation
import HarkCrypto
import HarkWire
import HarkWireProto

/// One `hark pair` in progress with one peer, bound to one channel (PROTOCOL.md §3.3).
struct Pairing: Sendable, Equatable {
    enum Role: String, Sendable { case initiator, responder }
    /// The channel whose handshake hash the code is derived from.
    let sessionID: UInt64
    var role: Role
    /// This side's 32 B nonce.
    var ownNonce: [UInt8]
    /// Responder: the initiator's 32 B commitment.
    var commitment: [UInt8]?
    var peerNonce: [UInt8]?
    /// The 6-digit code ("123 456"), once both nonces are known (and the commitment checked).
    var code: String?
    var confirmed = false
    var peerConfirmed = false
    var failure: String?
    /// Wall time the pairing began, ms.
    let startedMs: Int64

    /// "waiting", "compare", "confirmed" or "failed" (`pair.status`).
    var state: String { failure != nil ? "failed" : confirmed ? "confirmed" : code != nil ? "compare" : "waiting" }
}

/// The pairings in progress, one per peer, as a pure state machine (PROTOCOL.md §3.3): the
/// commitment, the two nonces, the code, and each side's confirmation. It decides; the node
/// sends the steps it returns, stores verification and tells watchers.
///
/// Pure: time (wall ms), nonces (32 B, from the caller's random source) and which channels are
/// open are passed in. A value type held by `TrustBook`; isolated to the node's actor.
struct PairingBook {
    /// How long a pairing may wait for its code to be confirmed, ms.
    static let lifetimeMs: Int64 = 10 * 60_000

    private(set) var pairings: [PeerID: Pairing] = [:]

    /// What a received step changed, for the node to report.
    enum Note: Equatable {
        /// The peer asked to pair (a commitment arrived): the user runs `hark pair --accept`.
        case requested
        /// The pairing failed: the reason.
        case failed(String)
        /// The peer confirmed that both screens show the code.
        case peerConfirmed
    }

    subscript(peer: PeerID) -> Pairing? { pairings[peer] }

    /// Drops pairings older than `lifetimeMs` and those whose channel closed.
    mutating func expire(nowMs: Int64, isOpen: (UInt64) -> Bool) {
        pairings = pairings.filter { nowMs - $0.value.startedMs < Self.lifetimeMs && isOpen($0.value.sessionID) }
    }

    /// The channel closed: its pairings end with it.
    mutating func channelClosed(_ sessionID: UInt64) {
        pairings = pairings.filter { $0.value.sessionID != sessionID }
    }

    /// Starts a pairing as initiator on `sessionID`, or returns the one in progress there.
    /// - Returns: the pairing, and the step to send (a commitment to `nonce`), nil if it was in progress.
    mutating func start(peer: PeerID, sessionID: UInt64, handshakeHash: [UInt8], nonce: [UInt8],
                        nowMs: Int64) -> (Pairing, Hark_V1_Pair.OneOf_Step?) {
        if let p = pairings[peer], p.sessionID == sessionID, p.failure == nil, !p.confirmed { return (p, nil) }
        let p = Pairing(sessionID: sessionID, role: .initiator, ownNonce: nonce, startedMs: nowMs)
        pairings[peer] = p
        return (p, .commitment(Data(PairingCode.commitment(handshakeHash: handshakeHash, initiatorNonce: nonce))))
    }

    /// The user confirmed `code`: checks it against the pairing's.
    /// - Returns: the step to send (`confirmed = true`); nil when no pairing with a code is in
    ///   progress (`.notReady`), or `.mismatch` when the digits differ. Nothing changes then.
    enum ConfirmError: Error, Equatable { case notReady, mismatch }
    func checkConfirmation(peer: PeerID, code: String) -> Result<Pairing, ConfirmError> {
        guard let p = pairings[peer], p.failure == nil, let expected = p.code else { return .failure(.notReady) }
        guard code.filter(\.isNumber) == expected.filter(\.isNumber) else { return .failure(.mismatch) }
        return .success(p)
    }

    /// Records this side's confirmation (after the node stored the verification).
    /// - Returns: the step to send.
    mutating func confirmed(peer: PeerID) -> Hark_V1_Pair.OneOf_Step? {
        guard pairings[peer] != nil else { return nil }
        pairings[peer]?.confirmed = true
        return .confirmed(true)
    }

    /// This side refuses (codes differ, or the user gave up). Returns the pairing and the step
    /// to send, nil if none is in progress.
    mutating func reject(peer: PeerID) -> (Pairing, Hark_V1_Pair.OneOf_Step)? {
        guard var p = pairings[peer] else { return nil }
        p.failure = p.failure ?? "refused on this side"
        pairings[peer] = p
        return (p, .confirmed(false))
    }

    /// A step from `peer` on channel `sessionID` (handshake hash `handshakeHash`). `nonce`: a
    /// fresh 32 B nonce, used if this side becomes the responder. `ownKeyIsSmaller`: this node's
    /// identity key sorts before the peer's (when both send a commitment at once, the smaller
    /// key stays the initiator).
    /// - Returns: the steps to send and what to report. A step that does not fit the pairing in
    ///   progress changes nothing and returns nothing.
    /// - Throws: `ProtocolViolation` for a commitment or nonce that is not 32 B, or no step.
    mutating func receive(_ step: Hark_V1_Pair.OneOf_Step?, from peer: PeerID, sessionID: UInt64, handshakeHash: [UInt8],
                          ownKeyIsSmaller: Bool, nonce: [UInt8], nowMs: Int64) throws -> (send: [Hark_V1_Pair.OneOf_Step], note: Note?) {
        func bytes32(_ d: Data, _ what: String) throws -> [UInt8] {
            guard d.count == 32 else { throw ProtocolViolation("pair \(what) of \(d.count) bytes") }
            return [UInt8](d)
        }
        switch step {
        case let .commitment(c)?:
            let commitment = try bytes32(c, "commitment")
            if let mine = pairings[peer], mine.sessionID == sessionID, mine.role == .initiator, mine.peerNonce == nil,
               mine.failure == nil, ownKeyIsSmaller {
                return ([], nil)   // both started at once: the smaller identity key stays the initiator
            }
            pairings[peer] = Pairing(sessionID: sessionID, role: .responder, ownNonce: nonce, commitment: commitment, startedMs: nowMs)
            return ([.responderNonce(Data(nonce))], .requested)
        case let .responderNonce(n)?:
            let theirs = try bytes32(n, "responder nonce")
            guard var p = pairings[peer], p.sessionID == sessionID, p.role == .initiator, p.peerNonce == nil, p.failure == nil else {
                return ([], nil)
            }
            p.peerNonce = theirs
            p.code = PairingCode.code(handshakeHash: handshakeHash, initiatorNonce: p.ownNonce, responderNonce: theirs)
            pairings[peer] = p
            return ([.initiatorNonce(Data(p.ownNonce))], nil)
        case let .initiatorNonce(n)?:
            let theirs = try bytes32(n, "initiator nonce")
            guard var p = pairings[peer], p.sessionID == sessionID, p.role == .responder, p.peerNonce == nil, p.failure == nil,
                  let commitment = p.commitment else { return ([], nil) }
            p.peerNonce = theirs
            defer { pairings[peer] = p }
            if constantTimeEqual(PairingCode.commitment(handshakeHash: handshakeHash, initiatorNonce: theirs), commitment) {
                p.code = PairingCode.code(handshakeHash: handshakeHash, initiatorNonce: theirs, responderNonce: p.ownNonce)
                return ([], nil)
            }
            p.failure = "the peer's nonce does not match its commitment"
            return ([.confirmed(false)], .failed(p.failure ?? ""))
        case let .confirmed(yes)?:
            guard var p = pairings[peer], p.sessionID == sessionID, p.failure == nil else { return ([], nil) }
            defer { pairings[peer] = p }
            if yes, p.code != nil {
                p.peerConfirmed = true
                return ([], .peerConfirmed)
            }
            if !yes {
                p.failure = "the peer refused or cancelled"
                return ([], .failed(p.failure ?? ""))
            }
            return ([], nil)
        case nil:
            throw ProtocolViolation("pair frame without a step")
        }
    }
}
