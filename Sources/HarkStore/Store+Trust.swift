import Foundation
import GRDB
import HarkCrypto

/// Trust on first use and verification (docs/SECURITY.md): which identity keys were seen with
/// which display names, which keys the user verified, and the warnings raised when a key claims a
/// name already bound to another key.
extension Store {
    /// A warning that `peer` used a display name already seen with `other`.
    public struct TrustWarning: Sendable, Equatable {
        public var peer: SigningPublicKey
        public var displayName: String
        public var other: SigningPublicKey
        public var createdMs: Int64
    }

    /// Display names compared for conflicts: NFKC, case-folded, surrounding whitespace removed.
    /// (Confusables across scripts, such as a Cyrillic "о", are not folded: the fingerprint and
    /// verification are the defence against those.)
    public static func nameKey(_ displayName: String) -> String {
        displayName.precomposedStringWithCompatibilityMapping.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Records that `key` was seen with `displayName` (after an authenticated handshake). When the
    /// pair is new and the name was seen with other keys, stores a warning for each of them.
    /// - Returns: the other keys the name was bound to, if this sighting raised a new warning.
    /// - Throws: `StoreError.database`.
    @discardableResult
    public func recordNameUse(key: SigningPublicKey, displayName: String, seenMs: Int64) throws(StoreError) -> [SigningPublicKey] {
        let nk = Self.nameKey(displayName)
        return try write("record the name of \(PeerID(key))") { db -> [SigningPublicKey] in
            let keyData = Data(key.bytes)
            if try Row.fetchOne(db, sql: "SELECT 1 FROM peer_name WHERE name_key = ? AND peer_key = ?", arguments: [nk, keyData]) != nil {
                try db.execute(sql: "UPDATE peer_name SET last_seen_ms = MAX(last_seen_ms, ?), display_name = ? WHERE name_key = ? AND peer_key = ?",
                               arguments: [seenMs, displayName, nk, keyData])
                return []
            }
            let others = try Data.fetchAll(db, sql: "SELECT peer_key FROM peer_name WHERE name_key = ? AND peer_key != ? ORDER BY first_seen_ms",
                                           arguments: [nk, keyData])
            try db.execute(sql: "INSERT INTO peer_name VALUES (?, ?, ?, ?, ?)", arguments: [nk, keyData, displayName, seenMs, seenMs])
            var out: [SigningPublicKey] = []
            for o in others {
                guard let other = try? SigningPublicKey(bytes: [UInt8](o)) else { continue }
                try db.execute(sql: "INSERT OR IGNORE INTO trust_warning VALUES (?, ?, ?, ?, ?)",
                               arguments: [keyData, nk, o, displayName, seenMs])
                out.append(other)
            }
            return out
        }
    }

    /// Every open trust warning, oldest first.
    public func trustWarnings() throws(StoreError) -> [TrustWarning] {
        try read("read trust warnings") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trust_warning ORDER BY created_ms").compactMap { row -> TrustWarning? in
                guard let p = try? SigningPublicKey(bytes: [UInt8](row["peer_key"] as Data)),
                      let o = try? SigningPublicKey(bytes: [UInt8](row["other_key"] as Data)) else { return nil }
                return TrustWarning(peer: p, displayName: row["display_name"], other: o, createdMs: row["created_ms"])
            }
        }
    }

    /// Marks `key` verified (the user compared codes) and clears the warnings about it.
    /// - Returns: false when the peer is unknown. - Throws: `StoreError.database`.
    @discardableResult
    public func setVerified(key: SigningPublicKey, atMs: Int64) throws(StoreError) -> Bool {
        try write("verify \(PeerID(key))") { db in
            try db.execute(sql: "UPDATE peer SET verified_ms = ? WHERE peer_key = ?", arguments: [atMs, Data(key.bytes)])
            let changed = db.changesCount > 0
            if changed { try db.execute(sql: "DELETE FROM trust_warning WHERE peer_key = ?", arguments: [Data(key.bytes)]) }
            return changed
        }
    }

    /// Verified identity keys and when they were verified.
    public func verifiedPeers() throws(StoreError) -> [SigningPublicKey: Int64] {
        try read("read verified peers") { db in
            var out: [SigningPublicKey: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT peer_key, verified_ms FROM peer WHERE verified_ms IS NOT NULL") {
                if let k = try? SigningPublicKey(bytes: [UInt8](row["peer_key"] as Data)) { out[k] = row["verified_ms"] }
            }
            return out
        }
    }
}
