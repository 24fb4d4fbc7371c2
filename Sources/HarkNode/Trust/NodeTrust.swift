import Foundation
import HarkControl
import HarkCrypto
import HarkStore
import HarkWire
import HarkWireProto
import Logging

/// Trust on first use, safety numbers and `hark pair` (docs/SECURITY.md, PROTOCOL.md §1.1, §3.3).
///
/// Identity is the key, never the name: every channel works for whatever its key proves (group
/// membership included). What trust adds is what the user is shown: a key that claims a display
/// name already bound to another key carries a warning everywhere that name is shown, until the
/// user verifies it with `hark pair`; verification is bound to the identity key.
struct Pairing: Sendable {
    enum Role: String, Sendable { case initiator, responder }
    let sessionID: UInt64
    var role: Role
    var ownNonce: [UInt8]
    /// Responder: the initiator's commitment.
    var commitment: [UInt8]?
    var peerNonce: [UInt8]?
    var code: String?
    var confirmed = false
    var peerConfirmed = false
    var failure: String?
    let startedMs: Int64
}

/// What the node knows about trust, cached from the store.
struct TrustCache: Sendable {
    var verified: [SigningPublicKey: Int64] = [:]
    var warnings: [SigningPublicKey: [Store.TrustWarning]] = [:]
    /// The user's aliases and blocks (Store+PeerLocal.swift).
    var local: [SigningPublicKey: Store.PeerLocal] = [:]
}

extension Node {
    /// How long a pairing may wait for its code to be confirmed, ms (PROTOCOL.md §3.3).
    public static let pairingLifetimeMs: Int64 = 10 * 60_000

    // MARK: trust on first use

    func trustCache() -> TrustCache {
        if let c = trustBook.cache { return c }
        var c = TrustCache()
        c.verified = (try? store.verifiedPeers()) ?? [:]
        for w in (try? store.trustWarnings()) ?? [] { c.warnings[w.peer, default: []].append(w) }
        c.local = (try? store.peerLocal()) ?? [:]
        trustBook.cache = c
        return c
    }

    func isVerified(_ key: SigningPublicKey) -> Bool { trustCache().verified[key] != nil }

    /// The warning shown with a key that claimed a name bound to another key, nil if none.
    func trustWarning(for key: SigningPublicKey) -> String? {
        guard let ws = trustCache().warnings[key], let w = ws.first else { return nil }
        let others = ws.map { PeerID($0.other).fingerprint }.joined(separator: ", ")
        return "the name \"\(w.displayName)\" was first seen with another key (fingerprint \(others)); this key (\(PeerID(key).fingerprint)) is not verified"
    }

    /// Adds the trust flags to a message view (log, follow, watch, chat).
    func applyTrust(_ v: inout MessageView, author: SigningPublicKey) {
        v.authorVerified = isVerified(author)
        v.authorNameConflict = trustCache().warnings[author] != nil
    }

    /// Called for every new authenticated channel: binds the name to the key on first use, and
    /// raises a loud warning when the name was bound to another key.
    func noteContact(_ hello: PeerHello) {
        let others: [SigningPublicKey]
        do { others = try store.recordNameUse(key: hello.peerID.key, displayName: hello.displayName, seenMs: clock.wallMs()) } catch {
            logger.error("cannot record the peer's name", metadata: ["error": "\(error)"])
            return
        }
        guard !others.isEmpty else { return }
        trustBook.cache = nil
        let otherFP = others.map { PeerID($0).fingerprint }.joined(separator: ", ")
        logger.error("TRUST WARNING: a new key claims a name already bound to another key; it is not verified", metadata: [
            "peer.name": "\(hello.displayName)", "peer.id": "\(hello.peerID)", "peer.fingerprint": "\(hello.peerID.fingerprint)",
            "bound.fingerprint": "\(otherFP)",
        ])
        emit(.trust(TrustView(peerId: hello.peerID.description, displayName: hello.displayName, fingerprint: hello.peerID.fingerprint,
                              change: "name_conflict", detail: trustWarning(for: hello.peerID.key), otherFingerprint: otherFP)))
    }

    // MARK: resolving peers

    /// Finds one known peer by peer ID, alias, display name or fingerprint prefix
    /// (docs/SECURITY.md "Names"). An alias names one key outright. Among keys with the same
    /// display name, blocked keys are skipped, and a single verified key wins over unverified
    /// ones (which keep their warning). Anything else that matches several keys is ambiguous.
    /// - Throws: `.notFound`, or `.ambiguous` listing the candidates with fingerprints.
    func resolvePeer(_ ref: String) throws(ControlErrorBody) -> (id: PeerID, name: String) {
        var known: [PeerID: String] = [:]
        for r in (try? store.peers()) ?? [] { known[PeerID(r.key)] = r.displayName }
        for (id, info) in peerTable.info { known[id] = info.displayName }
        let text = ref.trimmingCharacters(in: .whitespaces)
        if let id = try? PeerID(parsing: text.lowercased()) {
            guard let name = known[id] else { throw ControlErrorBody(code: .notFound, message: "no known peer with ID \(text)") }
            return (id, name)
        }
        let trust = trustCache()
        let alias = text.hasPrefix("@") ? String(text.dropFirst()) : text
        if let (key, _) = trust.local.first(where: { $0.value.alias.map(Store.nameKey) == Store.nameKey(alias) }) {
            let id = PeerID(key)
            return (id, known[id] ?? displayName(of: key))
        }
        var matches: [PeerID: String] = [:]
        for (id, name) in known where name == text { matches[id] = name }
        if matches.isEmpty {
            for (id, name) in known where Store.nameKey(name) == Store.nameKey(text) { matches[id] = name }
        }
        if matches.count > 1 {
            let unblocked = matches.filter { trust.local[$0.key.key]?.blockedMs == nil }
            if !unblocked.isEmpty { matches = unblocked }
            let verified = matches.filter { trust.verified[$0.key.key] != nil }
            if verified.count == 1 { matches = verified }
        }
        let hex = text.lowercased().replacingOccurrences(of: "-", with: "")
        if hex.count >= 4, hex.allSatisfy(\.isHexDigit) {
            for (id, name) in known where id.fingerprint.replacingOccurrences(of: "-", with: "").hasPrefix(hex) { matches[id] = name }
        }
        if matches.count == 1, let m = matches.first { return (m.key, m.value) }
        if matches.isEmpty {
            throw ControlErrorBody(code: .notFound, message: "no known peer matches \"\(text)\" (see `hark peers`)")
        }
        let list = matches.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key.fingerprint)) \($0.key)" }.joined(separator: "; ")
        throw ControlErrorBody(code: .ambiguous, message: "\"\(text)\" matches \(matches.count) keys: \(list); name the peer by fingerprint or peer ID, or give one a local name: hark peer alias KEY NAME")
    }

    // MARK: safety numbers

    func safetyNumber(peer ref: String) throws(ControlErrorBody) -> SafetyNumberView {
        let (id, name) = try resolvePeer(ref)
        return SafetyNumberView(peerId: id.description, fingerprint: id.fingerprint, displayName: name,
                                safetyNumber: SafetyNumber.digits(identity.signing.publicKey, id.key),
                                verified: isVerified(id.key), warning: trustWarning(for: id.key))
    }

    // MARK: pairing (PROTOCOL.md §3.3)

    func sessionFor(_ id: PeerID) -> PeerSession? {
        peerTable.sessions.filter { $0.peerID == id }.min { $0.id < $1.id }
    }

    func pairView(_ id: PeerID, _ p: Pairing) -> PairView {
        let state = p.failure != nil ? "failed" : p.confirmed ? "confirmed" : p.code != nil ? "compare" : "waiting"
        return PairView(peerId: id.description, fingerprint: id.fingerprint, displayName: peerTable.info[id]?.displayName ?? displayName(of: id.key),
                        role: p.role.rawValue, state: state, code: p.code, peerConfirmed: p.peerConfirmed,
                        verified: isVerified(id.key), reason: p.failure, warning: trustWarning(for: id.key))
    }

    func expirePairings() {
        let now = clock.wallMs()
        trustBook.pairings = trustBook.pairings.filter { now - $0.value.startedMs < Self.pairingLifetimeMs && peerTable[$0.value.sessionID] != nil }
    }

    func sendPair(_ step: Hark_V1_Pair.OneOf_Step, on session: PeerSession) {
        var pair = Hark_V1_Pair()
        pair.step = step
        var frame = Hark_V1_Frame()
        frame.pair = pair
        session.send(frame)
    }

    /// `pair.start`: begins a pairing with a connected peer, or returns the one in progress.
    public func startPairing(peer ref: String) throws(ControlErrorBody) -> PairView {
        expirePairings()
        let (id, name) = try resolvePeer(ref)
        guard let session = sessionFor(id) else {
            throw ControlErrorBody(code: .notFound, message: "no open channel to \(name) (\(id.fingerprint)); pairing needs one, so both nodes must be running and connected")
        }
        if let p = trustBook.pairings[id], p.sessionID == session.id, p.failure == nil, !p.confirmed { return pairView(id, p) }
        let nonce = SecureRandom.bytes(PairingCode.nonceByteCount)
        let p = Pairing(sessionID: session.id, role: .initiator, ownNonce: nonce, startedMs: clock.wallMs())
        trustBook.pairings[id] = p
        sendPair(.commitment(Data(PairingCode.commitment(handshakeHash: session.hello.handshakeHash, initiatorNonce: nonce))), on: session)
        logger.info("pairing started", metadata: ["peer.id": "\(id)"])
        return pairView(id, p)
    }

    public func pairingStatus(peer ref: String) throws(ControlErrorBody) -> PairView {
        expirePairings()
        let (id, name) = try resolvePeer(ref)
        guard let p = trustBook.pairings[id] else { throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) in progress") }
        return pairView(id, p)
    }

    public func listPairings() -> [PairView] {
        expirePairings()
        return trustBook.pairings.sorted { $0.value.startedMs < $1.value.startedMs }.map { pairView($0.key, $0.value) }
    }

    /// `pair.confirm`: the user saw `code` on both screens. Marks the key verified.
    public func confirmPairing(peer ref: String, code: String) throws(ControlErrorBody) -> PairView {
        expirePairings()
        let (id, name) = try resolvePeer(ref)
        guard var p = trustBook.pairings[id], p.failure == nil, let expected = p.code, let session = peerTable[p.sessionID] else {
            throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) is ready to confirm")
        }
        let digits = code.filter(\.isNumber)
        guard digits == expected.filter(\.isNumber) else {
            throw ControlErrorBody(code: .invalidArgument, message: "the code given does not match this pairing's code; nothing was verified")
        }
        do { try store.setVerified(key: id.key, atMs: clock.wallMs()) } catch {
            throw ControlErrorBody(code: .storage, message: "\(error)")
        }
        trustBook.cache = nil
        p.confirmed = true
        trustBook.pairings[id] = p
        sendPair(.confirmed(true), on: session)
        logger.notice("peer verified by code comparison", metadata: ["peer.id": "\(id)", "peer.fingerprint": "\(id.fingerprint)"])
        emit(.trust(TrustView(peerId: id.description, displayName: name, fingerprint: id.fingerprint, change: "verified")))
        return pairView(id, p)
    }

    /// `pair.reject`: the codes differ, or the user gave up. Tells the peer.
    public func rejectPairing(peer ref: String) throws(ControlErrorBody) -> PairView {
        let (id, name) = try resolvePeer(ref)
        guard var p = trustBook.pairings[id] else { throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) in progress") }
        p.failure = p.failure ?? "refused on this side"
        trustBook.pairings[id] = p
        if let session = peerTable[p.sessionID] { sendPair(.confirmed(false), on: session) }
        logger.warning("pairing refused", metadata: ["peer.id": "\(id)"])
        return pairView(id, p)
    }

    /// A `Pair` frame from a peer.
    func receivePair(_ pair: Hark_V1_Pair, from session: PeerSession) throws {
        let id = session.peerID
        let hh = session.hello.handshakeHash
        func bytes32(_ d: Data, _ what: String) throws -> [UInt8] {
            guard d.count == 32 else { throw ProtocolViolation("pair \(what) of \(d.count) bytes") }
            return [UInt8](d)
        }
        func view(_ change: String, _ detail: String? = nil) -> WatchEvent {
            .trust(TrustView(peerId: id.description, displayName: session.hello.displayName, fingerprint: id.fingerprint,
                             change: change, detail: detail))
        }
        switch pair.step {
        case let .commitment(c)?:
            let commitment = try bytes32(c, "commitment")
            if let mine = trustBook.pairings[id], mine.sessionID == session.id, mine.role == .initiator, mine.peerNonce == nil, mine.failure == nil,
               identity.signing.publicKey < id.key {
                return   // both started at once: the smaller identity key stays the initiator
            }
            let nonce = SecureRandom.bytes(PairingCode.nonceByteCount)
            trustBook.pairings[id] = Pairing(sessionID: session.id, role: .responder, ownNonce: nonce, commitment: commitment, startedMs: clock.wallMs())
            sendPair(.responderNonce(Data(nonce)), on: session)
            logger.notice("pairing requested by peer; run `hark pair --accept` to compare codes", metadata: [
                "peer.id": "\(id)", "peer.name": "\(session.hello.displayName)",
            ])
            emit(view("pair_request", "run `hark pair --accept` (or `hark pair \(id.shortFingerprint)`) to compare codes"))
        case let .responderNonce(n)?:
            let nonce = try bytes32(n, "responder nonce")
            guard var p = trustBook.pairings[id], p.sessionID == session.id, p.role == .initiator, p.peerNonce == nil, p.failure == nil else { return }
            p.peerNonce = nonce
            p.code = PairingCode.code(handshakeHash: hh, initiatorNonce: p.ownNonce, responderNonce: nonce)
            trustBook.pairings[id] = p
            sendPair(.initiatorNonce(Data(p.ownNonce)), on: session)
        case let .initiatorNonce(n)?:
            let nonce = try bytes32(n, "initiator nonce")
            guard var p = trustBook.pairings[id], p.sessionID == session.id, p.role == .responder, p.peerNonce == nil, p.failure == nil,
                  let commitment = p.commitment else { return }
            p.peerNonce = nonce
            if constantTimeEqual(PairingCode.commitment(handshakeHash: hh, initiatorNonce: nonce), commitment) {
                p.code = PairingCode.code(handshakeHash: hh, initiatorNonce: nonce, responderNonce: p.ownNonce)
            } else {
                p.failure = "the peer's nonce does not match its commitment"
                sendPair(.confirmed(false), on: session)
                logger.error("TRUST WARNING: pairing failed: the peer's nonce does not match its commitment", metadata: ["peer.id": "\(id)"])
                emit(view("pair_failed", p.failure))
            }
            trustBook.pairings[id] = p
        case let .confirmed(yes)?:
            guard var p = trustBook.pairings[id], p.sessionID == session.id, p.failure == nil else { return }
            if yes, p.code != nil {
                p.peerConfirmed = true
                emit(view("peer_confirmed"))
            } else if !yes {
                p.failure = "the peer refused or cancelled"
                emit(view("pair_failed", p.failure))
            }
            trustBook.pairings[id] = p
        case nil:
            throw ProtocolViolation("pair frame without a step")
        }
    }
}
