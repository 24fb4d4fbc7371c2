import Foundation
import HarkControl
import HarkCrypto
import HarkStore

/// The user's own decisions about peer keys (docs/SECURITY.md "Names", docs/CONTROL.md
/// `peer.*`): local aliases, forgetting a key, and blocking one. Runs on the node actor.
extension Node {
    static let maxAliasBytes = 64

    func isBlocked(_ key: SigningPublicKey) -> Bool { trustCache().local[key]?.blockedMs != nil }

    func alias(of key: SigningPublicKey) -> String? { trustCache().local[key]?.alias }

    /// Drops the cached trust state; the next read loads it from the store again.
    func forgetTrustCache() { trustBook.cache = nil }

    /// `peer.alias`: gives a key a local name (or clears it with nil/empty). An alias held by
    /// another key moves to this one.
    /// - Throws: `.invalidArgument` for a name that is too long, has control characters or looks
    ///   like a peer ID or fingerprint; `.notFound`/`.ambiguous` from `resolvePeer`; `.storage`.
    func setPeerAlias(peer ref: String, alias raw: String?) throws(ControlErrorBody) -> PeerView {
        let (id, _) = try resolvePeer(ref)
        var alias = raw?.trimmingCharacters(in: .whitespacesAndNewlines)
        if alias?.isEmpty == true { alias = nil }
        if let a = alias {
            guard a.utf8.count <= Self.maxAliasBytes else {
                throw ControlErrorBody(code: .invalidArgument, message: "an alias is at most \(Self.maxAliasBytes) bytes")
            }
            guard !a.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "@" }) else {
                throw ControlErrorBody(code: .invalidArgument, message: "an alias cannot contain control characters or @")
            }
            let hex = a.lowercased().replacingOccurrences(of: "-", with: "")
            if (try? PeerID(parsing: a.lowercased())) != nil || (hex.count >= 4 && hex.allSatisfy(\.isHexDigit)) {
                throw ControlErrorBody(code: .invalidArgument, message: "an alias cannot look like a peer ID or a fingerprint")
            }
        }
        do { try store.setAlias(key: id.key, alias: alias) } catch { throw ControlErrorBody(code: .storage, message: "\(error)") }
        trustBook.cache = nil
        logger.notice(alias == nil ? "peer alias cleared" : "peer alias set", metadata: [
            "peer.id": "\(id)", "peer.alias": "\(alias ?? "")",
        ])
        return peerView(id)
    }

    /// `peer.block` / `peer.unblock`. Blocking closes every open channel to the key; from then
    /// on no channel to it is opened or accepted, and events it authored are not relayed to
    /// `watch` subscribers. Events already stored stay.
    /// - Throws: `.notFound`/`.ambiguous` from `resolvePeer`, `.invalidArgument` for this node's
    ///   own key, `.storage`.
    func setPeerBlocked(peer ref: String, blocked: Bool) throws(ControlErrorBody) -> PeerView {
        let (id, _) = try resolvePeer(ref)
        guard id != peerID else { throw ControlErrorBody(code: .invalidArgument, message: "this node cannot block itself") }
        do { try store.setBlocked(key: id.key, atMs: blocked ? clock.wallMs() : nil) } catch {
            throw ControlErrorBody(code: .storage, message: "\(error)")
        }
        trustBook.cache = nil
        if blocked {
            for s in peerTable.sessions where s.peerID == id { s.close() }
        }
        logger.notice(blocked ? "peer blocked" : "peer unblocked", metadata: ["peer.id": "\(id)", "peer.fingerprint": "\(id.fingerprint)"])
        return peerView(id)
    }

    /// `peer.forget`: forgets a key as a contact (like `ssh-keygen -R`): its sighting, names,
    /// trust warnings, verification, alias and block; an open channel to it is closed. If it
    /// comes back it is a first sighting again (and warned about if it claims a bound name).
    /// - Returns: the peer as it was. - Throws: `.notFound`/`.ambiguous`, `.storage`.
    func forgetPeer(peer ref: String) throws(ControlErrorBody) -> PeerView {
        let (id, _) = try resolvePeer(ref)
        guard id != peerID else { throw ControlErrorBody(code: .invalidArgument, message: "this node cannot forget itself") }
        let before = peerView(id)
        do { try store.forgetPeer(key: id.key) } catch { throw ControlErrorBody(code: .storage, message: "\(error)") }
        trustBook.cache = nil
        for s in peerTable.sessions where s.peerID == id { s.close() }
        peerTable.info.removeValue(forKey: id)
        logger.notice("peer forgotten", metadata: ["peer.id": "\(id)", "peer.fingerprint": "\(id.fingerprint)"])
        return before
    }

    /// The `peers` row of one key, from the live table or else the store.
    func peerView(_ id: PeerID) -> PeerView {
        if let v = peers().first(where: { $0.peerId == id.description }) { return v }
        let rec = (try? store.peers())?.first { $0.key == id.key }
        var v = PeerView(peerId: id.description, fingerprint: id.fingerprint, displayName: rec?.displayName ?? displayName(of: id.key),
                         connected: false, address: rec?.lastAddress, direction: nil, source: nil, lastSeenMs: rec?.lastSeenMs ?? 0)
        v.verified = isVerified(id.key)
        v.warning = trustWarning(for: id.key)
        v.alias = alias(of: id.key)
        v.blocked = isBlocked(id.key)
        return v
    }
}
