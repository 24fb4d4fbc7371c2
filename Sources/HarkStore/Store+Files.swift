import Foundation
import GRDB
import HarkLog

extension Store {
    /// A manifest this node can serve or is fetching (table `shared_file`, schema v4).
    public struct SharedFileRecord: Sendable, Equatable {
        /// 32-byte manifest ID.
        public var manifestID: [UInt8]
        public var group: EventID
        /// The encoded FileManifest, exactly as built or received.
        public var manifest: [UInt8]
        /// Opaque to the store: where the local copies are (JSON written by the node); nil while
        /// the files are not complete here.
        public var sources: Data?
        public var updatedMs: Int64
        public init(manifestID: [UInt8], group: EventID, manifest: [UInt8], sources: Data?, updatedMs: Int64) {
            self.manifestID = manifestID; self.group = group; self.manifest = manifest; self.sources = sources
            self.updatedMs = updatedMs
        }
    }

    /// Inserts or replaces the record of `record.manifestID`.
    public func saveSharedFile(_ record: SharedFileRecord) throws(StoreError) {
        try write("save shared file") { db in
            try db.execute(sql: """
                INSERT INTO shared_file (manifest_id, group_id, manifest, sources, updated_ms) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (manifest_id) DO UPDATE SET group_id = excluded.group_id, manifest = excluded.manifest,
                    sources = excluded.sources, updated_ms = excluded.updated_ms
                """, arguments: [Data(record.manifestID), record.group.data, Data(record.manifest), record.sources, record.updatedMs])
        }
    }

    /// The record of one manifest, or nil.
    public func sharedFile(_ manifestID: [UInt8]) throws(StoreError) -> SharedFileRecord? {
        try read("read shared file") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM shared_file WHERE manifest_id = ?", arguments: [Data(manifestID)])
            else { return nil }
            return try Self.sharedFile(row)
        }
    }

    /// Every record (manifest bytes included).
    public func allSharedFiles() throws(StoreError) -> [SharedFileRecord] {
        try read("read shared files") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM shared_file ORDER BY updated_ms").map { try Self.sharedFile($0) }
        }
    }

    static func sharedFile(_ row: Row) throws -> SharedFileRecord {
        let id: Data = row["manifest_id"]
        let group: Data = row["group_id"]
        let manifest: Data = row["manifest"]
        guard id.count == 32, let g = try? EventID(bytes: [UInt8](group)) else {
            throw StoreError.corrupt("shared_file row with a \(id.count)-byte ID")
        }
        return SharedFileRecord(manifestID: [UInt8](id), group: g, manifest: [UInt8](manifest), sources: row["sources"],
                                updatedMs: row["updated_ms"])
    }
}
