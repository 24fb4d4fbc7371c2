import Foundation
import GRDB
import HarkCrypto

/// What this node's user decided about a peer's key (docs/SECURITY.md "Names"): a local alias
/// (a petname, never sent to peers) and whether the key is blocked. Kept apart from what the
/// peer announces (its display name), which is informational only.
extension Store {
    /// The user's own decisions about one key. Value type; thread-safe.
    public struct PeerLocal: Sendable, Equatable {
        /// A local name chosen by the user; unique on this node (compared by `nameKey`).
        public var alias: String?
        /// When the user blocked the key (ms since the Unix epoch); nil when not blocked.
        public var blockedMs: Int64?
        public init(alias: String? = nil, blockedMs: Int64? = nil) { self.alias = alias; self.blockedMs = blockedMs }
    }

    /// Every key with an alias or a block. - Throws: `StoreError.database`.
    public func peerLocal() throws(StoreError) -> [SigningPublicKey: PeerLocal] {
        try read("read peer aliases and blocks") { db in
            var out: [SigningPublicKey: PeerLocal] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT peer_key, alias, blocked_ms FROM peer_local") {
                guard let k = try? SigningPublicKey(bytes: [UInt8](row["peer_key"] as Data)) else { continue }
                out[k] = PeerLocal(alias: row["alias"], blockedMs: row["blocked_ms"])
            }
            return out
        }
    }

    /// Sets (or with nil, clears) the local alias of `key`. Another key holding the same alias
    /// (by `nameKey`) loses it: an alias names one key.
    /// - Throws: `StoreError.database`.
    public func setAlias(key: SigningPublicKey, alias: String?) throws(StoreError) {
        let k = Data(key.bytes)
        try write("set the alias of \(PeerID(key))") { db in
            if let alias {
                let ak = Self.nameKey(alias)
                try db.cachedStatement(sql: "UPDATE peer_local SET alias = NULL, alias_key = NULL WHERE alias_key = ? AND peer_key != ?").execute(arguments: [ak, k])
                try db.cachedStatement(sql: """
                    INSERT INTO peer_local (peer_key, alias, alias_key) VALUES (?, ?, ?)
                    ON CONFLICT(peer_key) DO UPDATE SET alias = excluded.alias, alias_key = excluded.alias_key
                    """).execute(arguments: [k, alias, ak])
            } else {
                try db.cachedStatement(sql: "UPDATE peer_local SET alias = NULL, alias_key = NULL WHERE peer_key = ?").execute(arguments: [k])
            }
            try db.execute(sql: "DELETE FROM peer_local WHERE alias IS NULL AND blocked_ms IS NULL")
        }
    }

    /// Blocks `key` from `atMs`, or with nil unblocks it. - Throws: `StoreError.database`.
    public func setBlocked(key: SigningPublicKey, atMs: Int64?) throws(StoreError) {
        let k = Data(key.bytes)
        try write("block \(PeerID(key))") { db in
            try db.cachedStatement(sql: """
                INSERT INTO peer_local (peer_key, blocked_ms) VALUES (?, ?)
                ON CONFLICT(peer_key) DO UPDATE SET blocked_ms = excluded.blocked_ms
                """).execute(arguments: [k, atMs])
            try db.execute(sql: "DELETE FROM peer_local WHERE alias IS NULL AND blocked_ms IS NULL")
        }
    }

    /// Forgets `key` as a contact, like `ssh-keygen -R`: its sighting, the names it used, the
    /// trust warnings about it or naming it, its verification, alias and block. Events it signed
    /// and sync bookkeeping stay (they belong to group logs, not to the contact).
    /// - Returns: false when nothing was stored about the key. - Throws: `StoreError.database`.
    @discardableResult
    public func forgetPeer(key: SigningPublicKey) throws(StoreError) -> Bool {
        let k = Data(key.bytes)
        return try write("forget \(PeerID(key))") { db in
            var n = 0
            for sql in ["DELETE FROM peer WHERE peer_key = ?", "DELETE FROM peer_name WHERE peer_key = ?",
                        "DELETE FROM trust_warning WHERE peer_key = ?1 OR other_key = ?1", "DELETE FROM peer_local WHERE peer_key = ?"] {
                try db.execute(sql: sql, arguments: [k])
                n += db.changesCount
            }
            return n > 0
        }
    }
}
