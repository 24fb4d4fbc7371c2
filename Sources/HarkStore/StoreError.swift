import HarkLog

/// Why a store operation failed. Value type; thread-safe.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `insert` was given an event whose parents (listed) are not stored; nothing was written.
    case missingParents([EventID])
    /// A stored row does not decode into what it should be (which row, which column, why).
    case corrupt(String)
    /// A value cannot be stored as an SQLite INTEGER (e.g. a seq or lamport above Int64.max).
    case unrepresentable(String)
    /// The database file could not be created, opened, migrated, read or written (what, why).
    case database(String)
    /// A read-only open found no database file at the path.
    case noStore(path: String)
    /// A read-only open found a schema other than this binary's: `newer` false when the file
    /// predates it (a writable open migrates it), true when a newer hark wrote it.
    case schemaMismatch(path: String, newer: Bool)

    public var description: String {
        switch self {
        case let .missingParents(ids):
            return "cannot store event: parents not stored: \(ids.map(\.description).joined(separator: ", "))"
        case let .corrupt(why): return "store is corrupt: \(why)"
        case let .unrepresentable(why): return "cannot store value: \(why)"
        case let .database(why): return "database error: \(why)"
        case let .noStore(path): return "no store at \(path)"
        case let .schemaMismatch(path, newer):
            return newer ? "the store \(path) was written by a newer hark than this one"
                         : "the store \(path) has an older schema: start `hark daemon` once to upgrade it"
        }
    }
}
