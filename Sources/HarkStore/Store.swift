import Foundation
import GRDB
import HarkLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// hark's persistent state in one SQLite file: the replicated event log of every group, the
/// groups the node belongs to (with their secret keys), and the peers it has seen.
///
/// Stores and returns HarkLog types, never rows. It does not validate events: run
/// `Event(decoding:)` and `EventValidator` first; the store only enforces that parents are
/// stored before children. The schema is described on `StoreSchema`.
///
/// The file is created with mode 0600 (it holds group keys) and opened in WAL mode through a
/// GRDB `DatabasePool`: one writer at a time, readers concurrent with it.
/// Thread-safety: `Sendable`; every method may be called from any thread or task. Each method
/// is one transaction. Methods block the calling thread on SQLite I/O. The file is closed when
/// the last reference to the store goes away.
public final class Store: Sendable {
    /// A `DatabasePool` when opened for writing; a read-only `DatabaseQueue` (`init(readOnlyPath:)`),
    /// where every write fails.
    let pool: any DatabaseWriter
    /// The database file path.
    public let path: String
    /// True when opened with `init(readOnlyPath:)`.
    public let isReadOnly: Bool
    /// Graph rows of recently stored or read events (`graphRow`).
    let graphRows = GraphRowCache()
    /// Per group, whether what validation loads of it may have changed (`historyGeneration`).
    let historyGenerations = HistoryGenerations()
    /// Per group, which peers reported each event as a head (`ReadModelWriter.index`).
    let reportedHeadsCache = ReportedHeadsCache()

    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    /// A new file gets mode 0600; an existing one is chmod-ed to 0600.
    /// - Throws: `StoreError.database` if the file cannot be created, opened or migrated.
    public convenience init(path: String) throws(StoreError) {
        try self.init(path: path, catchUpReadModel: true)
    }

    /// As `init(path:)`; `catchUpReadModel: false` (tests) leaves events stored before the read
    /// model existed unindexed until `catchUpReadModel()`.
    /// `migratingUpTo` (tests) stops the schema at that migration, as an older release wrote it.
    init(path: String, catchUpReadModel catchUp: Bool, migratingUpTo lastMigration: String? = nil) throws(StoreError) {
        self.path = path
        self.isReadOnly = false
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .database("cannot create \(path): \(String(cString: strerror(errno)))") }
        close(fd)
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        // WAL with synchronous=NORMAL: a commit is not fsynced, so a power cut can lose the last
        // transactions, but never corrupts the database (SQLite, "WAL mode" §"Performance
        // Considerations"). Events lost that way come back from peers by sync. 4–5× faster
        // inserts than FULL on this kind of machine.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer keeps up to 32 MiB of pages (SQLite's default is 2 MiB): a batch of
            // events touches pages all over the ID indexes, which then come from this cache and
            // not from read calls. Readers keep the default.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -32768") }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
        for file in [path, path + "-wal", path + "-shm"] where access(file, F_OK) == 0 {
            guard chmod(file, 0o600) == 0 else {
                throw .database("cannot chmod 0600 \(file): \(String(cString: strerror(errno)))")
            }
        }
        // A migration that rewrites the event tables takes seconds on a large store (about 6 s
        // for 100,000 events): say so first, as the read model's catch-up does.
        if catchUp, let events = try? EventLayoutSchema.eventsToRewrite(pool), events > 0 {
            FileHandle.standardError.write(Data("hark: rewriting \(events) stored events in arrival order (once)\n".utf8))
        }
        do {
            if let lastMigration { try StoreSchema.migrator.migrate(pool, upTo: lastMigration) } else { try StoreSchema.migrator.migrate(pool) }
        } catch {
            throw .database("cannot migrate \(path): \(error)")
        }
        // A store written before the read model existed: build it once (docs/HISTORY.md).
        guard catchUp else { return }
        try catchUpReadModel { done, total in
            let line = "\rhark: indexing history: \(done)/\(total) events" + (done >= total ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Opens an existing store for reading only, beside any writer (a running daemon): SQLite WAL
    /// lets readers see the last committed state while another process writes. Never creates,
    /// migrates, chmods or writes the file; every writing method throws `StoreError.database`.
    /// Waits up to 5 s for a lock (busy timeout).
    /// - Throws: `StoreError.noStore` when the file does not exist; `.schemaMismatch` when its
    ///   schema is not the one this binary writes (older: a writable open, i.e. the daemon,
    ///   migrates it first; newer: a newer hark wrote it); `.database` when it cannot be opened.
    public init(readOnlyPath path: String) throws(StoreError) {
        self.path = path
        self.isReadOnly = true
        guard access(path, F_OK) == 0 else { throw .noStore(path: path) }
        var config = Configuration()
        config.readonly = true
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch {
            throw .database("cannot open \(path) read-only: \(error)")
        }
        let applied: Set<String>
        do { applied = Set(try queue.read { db in try StoreSchema.migrator.appliedIdentifiers(db) }) } catch {
            throw .database("cannot read the schema version of \(path): \(error)")
        }
        let known = Set(StoreSchema.migrator.migrations)
        if !applied.isSuperset(of: known) { throw .schemaMismatch(path: path, newer: false) }
        if !known.isSuperset(of: applied) { throw .schemaMismatch(path: path, newer: true) }
        pool = queue
    }

    /// Runs `body` in a read transaction; errors other than `StoreError` become `.database(what…)`.
    func read<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch let error as StoreError { throw error } catch {
            throw .database("\(what()): \(error)")
        }
    }

    /// Runs `body` on a reader connection without a transaction (GRDB `unsafeRead`): for a body
    /// that runs one statement, or statements over rows that never change once written (an
    /// event and its parents). Saves the BEGIN and COMMIT a `read` runs around it, which cost
    /// more than a point look-up. Errors other than `StoreError` become `.database(what…)`.
    func readStatement<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.unsafeRead(body) } catch let error as StoreError { throw error } catch {
            throw .database("\(what()): \(error)")
        }
    }

    /// Runs `body` in a write transaction, rolled back if it throws.
    func write<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch let error as StoreError { throw error } catch {
            throw .database("\(what()): \(error)")
        }
    }

    /// The SQLite journal mode ("wal" once opened). For diagnostics.
    /// - Throws: `StoreError.database`.
    public func journalMode() throws(StoreError) -> String {
        try read("read journal_mode") { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Test hook (internal; `@testable` only): runs raw SQL with blob arguments, to damage rows
    /// on purpose.
    func executeRaw(_ sql: String, blobs: [[UInt8]] = []) throws(StoreError) {
        try write("raw SQL") { db in try db.execute(sql: sql, arguments: StatementArguments(blobs.map { Data($0) })) }
    }
}
