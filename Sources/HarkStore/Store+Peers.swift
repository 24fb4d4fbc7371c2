import Foundation
import GRDB
import HarkCrypto

extension Store {
    /// A peer this node has seen (on the network or in a log). Times are ms since the Unix
    /// epoch. Value type; thread-safe.
    public struct PeerRecord: Sendable, Equatable {
        /// The peer's Ed25519 identity key.
        public var key: SigningPublicKey
        /// The display name it last announced (informational, not unique).
        public var displayName: String
        /// The last "host:port" it was reached at, if any.
        public var lastAddress: String?
        /// The latest sighting.
        public var lastSeenMs: Int64
        /// The first sighting.
        public var firstSeenMs: Int64

        public init(key: SigningPublicKey, displayName: String, lastAddress: String?, lastSeenMs: Int64, firstSeenMs: Int64) {
            self.key = key
            self.displayName = displayName
            self.lastAddress = lastAddress
            self.lastSeenMs = lastSeenMs
            self.firstSeenMs = firstSeenMs
        }
    }

    /// Records a sighting. A new peer gets first = last seen = `seenMs`. A known one gets the
    /// new display name, the new address (a nil `address` keeps the previous one), and
    /// last seen = max(old, `seenMs`); first seen never changes.
    /// - Throws: `StoreError.database`.
    public func upsertPeer(key: SigningPublicKey, displayName: String, address: String?, seenMs: Int64) throws(StoreError) {
        try write("save peer \(PeerID(key))") { db in
            try db.cachedStatement(sql: """
                INSERT INTO peer (peer_key, display_name, last_address, last_seen_ms, first_seen_ms)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(peer_key) DO UPDATE SET display_name = excluded.display_name,
                    last_address = COALESCE(excluded.last_address, last_address),
                    last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms)
                """).execute(arguments: [Data(key.bytes), displayName, address, seenMs, seenMs])
        }
    }

    /// Every known peer, by key bytes. - Throws: `StoreError.corrupt`, `.database`.
    public func peers() throws(StoreError) -> [PeerRecord] {
        try read("read peers") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM peer ORDER BY peer_key").map { row in try row.peerRecord() }
        }
    }
}

extension Row {
    func peerRecord() throws(StoreError) -> Store.PeerRecord {
        let keyBytes = try blob("peer_key", "peer")
        let key: SigningPublicKey
        do { key = try SigningPublicKey(bytes: keyBytes) } catch { throw .corrupt("peer.peer_key: \(error)") }
        return Store.PeerRecord(key: key, displayName: try text("display_name", "peer"),
                                lastAddress: try optionalText("last_address", "peer"),
                                lastSeenMs: try int64("last_seen_ms", "peer"), firstSeenMs: try int64("first_seen_ms", "peer"))
    }
}
