import Foundation
import GRDB
import HarkLog

extension Store {
    /// A group this node belongs to. `key` is the 32-byte group key (secret; the store file is
    /// 0600). Times are ms since the Unix epoch. Value type; thread-safe.
    public struct GroupRecord: Sendable, Equatable {
        /// The group ID (its genesis event's ID).
        public var id: EventID
        /// The group's name, as in its genesis.
        public var name: String
        /// The 32-byte group key.
        public var key: [UInt8]
        /// The genesis event's `wallMs`.
        public var createdMs: Int64
        /// When this node joined (or created) the group.
        public var joinedMs: Int64

        public init(id: EventID, name: String, key: [UInt8], createdMs: Int64, joinedMs: Int64) {
            self.id = id
            self.name = name
            self.key = key
            self.createdMs = createdMs
            self.joinedMs = joinedMs
        }
    }

    /// Inserts or replaces the group with `g.id`. - Throws: `StoreError.database`.
    public func saveGroup(_ g: GroupRecord) throws(StoreError) {
        try write("save group \(g.id)") { db in
            try db.cachedStatement(sql: """
                INSERT INTO grp (id, name, group_key, created_ms, joined_ms) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, group_key = excluded.group_key,
                    created_ms = excluded.created_ms, joined_ms = excluded.joined_ms
                """).execute(arguments: [g.id.data, g.name, Data(g.key), g.createdMs, g.joinedMs])
        }
    }

    /// The group with this ID, or nil. - Throws: `StoreError.corrupt`, `.database`.
    public func group(id: EventID) throws(StoreError) -> GroupRecord? {
        try readStatement("read group \(id)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM grp WHERE id = ?"), arguments: [id.data])?.groupRecord()
        }
    }

    /// Groups with exactly this name (names need not be unique), by ID.
    /// - Throws: `StoreError.corrupt`, `.database`.
    public func groups(named name: String) throws(StoreError) -> [GroupRecord] {
        try read("read groups named \(name)") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM grp WHERE name = ? ORDER BY id"), arguments: [name])
                .map { row in try row.groupRecord() }
        }
    }

    /// Every group, by name then ID. - Throws: `StoreError.corrupt`, `.database`.
    public func allGroups() throws(StoreError) -> [GroupRecord] {
        try read("read groups") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grp ORDER BY name, id").map { row in try row.groupRecord() }
        }
    }
}

extension Row {
    func groupRecord() throws(StoreError) -> Store.GroupRecord {
        Store.GroupRecord(id: try eventID("id", "grp"), name: try text("name", "grp"),
                          key: try blob("group_key", "grp"), createdMs: try int64("created_ms", "grp"),
                          joinedMs: try int64("joined_ms", "grp"))
    }
}
