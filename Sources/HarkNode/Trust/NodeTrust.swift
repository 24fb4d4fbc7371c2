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
/// What the node knows about trust, cached from the store.
struct TrustCache: Sendable {
    var verified: [SigningPublicKey: Int64] = [:]
    var warnings: [SigningPublicKey: [Store.TrustWarning]] = [:]
    /// The user's aliases and blocks (Store+PeerLocal.swift).
    var local: [SigningPublicKey: Store.PeerLocal] = [:]
}

extension Node {
    /// How long a pairing may wait for its code to be confirmed, ms (PROTOCOL.md §3.3).
    public static let pairingLifetimeMs: Int64 = PairingBook.lifetimeMs

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
        PairView(peerId: id.description, fingerprint: id.fingerprint, displayName: peerTable.info[id]?.displayName ?? displayName(of: id.key),
                 role: p.role.rawValue, state: p.state, code: p.code, peerConfirmed: p.peerConfirmed,
                 verified: isVerified(id.key), reason: p.failure, warning: trustWarning(for: id.key))
    }

    func expirePairings() {
        trustBook.pairings.expire(nowMs: clock.wallMs()) { peerTable[$0] != nil }
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
        let (p, step) = trustBook.pairings.start(peer: id, sessionID: session.id, handshakeHash: session.hello.handshakeHash,
                                                 nonce: SecureRandom.bytes(PairingCode.nonceByteCount), nowMs: clock.wallMs())
        if let step {
            sendPair(step, on: session)
            logger.info("pairing started", metadata: ["peer.id": "\(id)"])
        }
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
        return trustBook.pairings.pairings.sorted { $0.value.startedMs < $1.value.startedMs }.map { pairView($0.key, $0.value) }
    }

    /// `pair.confirm`: the user saw `code` on both screens. Marks the key verified.
    public func confirmPairing(peer ref: String, code: String) throws(ControlErrorBody) -> PairView {
        expirePairings()
        let (id, name) = try resolvePeer(ref)
        let p: Pairing
        switch trustBook.pairings.checkConfirmation(peer: id, code: code) {
        case .failure(.notReady):
            throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) is ready to confirm")
        case .failure(.mismatch):
            throw ControlErrorBody(code: .invalidArgument, message: "the code given does not match this pairing's code; nothing was verified")
        case let .success(found):
            p = found
        }
        guard let session = peerTable[p.sessionID] else {
            throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) is ready to confirm")
        }
        do { try store.setVerified(key: id.key, atMs: clock.wallMs()) } catch {
            throw ControlErrorBody(code: .storage, message: "\(error)")
        }
        trustBook.cache = nil
        if let step = trustBook.pairings.confirmed(peer: id) { sendPair(step, on: session) }
        logger.notice("peer verified by code comparison", metadata: ["peer.id": "\(id)", "peer.fingerprint": "\(id.fingerprint)"])
        emit(.trust(TrustView(peerId: id.description, displayName: name, fingerprint: id.fingerprint, change: "verified")))
        return pairView(id, trustBook.pairings[id] ?? p)
    }

    /// `pair.reject`: the codes differ, or the user gave up. Tells the peer.
    public func rejectPairing(peer ref: String) throws(ControlErrorBody) -> PairView {
        let (id, name) = try resolvePeer(ref)
        guard let (p, step) = trustBook.pairings.reject(peer: id) else {
            throw ControlErrorBody(code: .notFound, message: "no pairing with \(name) in progress")
        }
        if let session = peerTable[p.sessionID] { sendPair(step, on: session) }
        logger.warning("pairing refused", metadata: ["peer.id": "\(id)"])
        return pairView(id, p)
    }

    /// A `Pair` frame from a peer: the step goes through `PairingBook`; its answer is sent and
    /// what changed is logged and told to watchers.
    /// - Throws: `ProtocolViolation` for a malformed step (the channel is dropped).
    func receivePair(_ pair: Hark_V1_Pair, from session: PeerSession) throws {
        let id = session.peerID
        let (steps, note) = try trustBook.pairings.receive(pair.step, from: id, sessionID: session.id,
                                                          handshakeHash: session.hello.handshakeHash,
                                                          ownKeyIsSmaller: identity.signing.publicKey < id.key,
                                                          nonce: SecureRandom.bytes(PairingCode.nonceByteCount), nowMs: clock.wallMs())
        for step in steps { sendPair(step, on: session) }
        func view(_ change: String, _ detail: String? = nil) -> WatchEvent {
            .trust(TrustView(peerId: id.description, displayName: session.hello.displayName, fingerprint: id.fingerprint,
                             change: change, detail: detail))
        }
        switch note {
        case .requested?:
            logger.notice("pairing requested by peer; run `hark pair --accept` to compare codes", metadata: [
                "peer.id": "\(id)", "peer.name": "\(session.hello.displayName)",
            ])
            emit(view("pair_request", "run `hark pair --accept` (or `hark pair \(id.shortFingerprint)`) to compare codes"))
        case let .failed(reason)?:
            if case .initiatorNonce? = pair.step {
                logger.error("TRUST WARNING: pairing failed: the peer's nonce does not match its commitment", metadata: ["peer.id": "\(id)"])
            }
            emit(view("pair_failed", reason))
        case .peerConfirmed?:
            emit(view("peer_confirmed"))
        case nil:
            break
        }
    }
}
