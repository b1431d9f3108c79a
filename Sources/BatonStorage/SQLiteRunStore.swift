import BatonCore
import Foundation
import GRDB
import Synchronization

/// The run store on SQLite (SPEC §3): one file, `<data-dir>/baton.db`, in WAL mode.
///
/// Built on a GRDB `DatabasePool`: every write goes through one serialized writer
/// connection, and reads run on a small pool of reader connections concurrently with it
/// (WAL snapshot isolation: a read sees the last committed state, never half a batch).
/// Every method is synchronous and may be called from any thread.
///
/// Dates are stored as `REAL` seconds since 1970 (readable with
/// `datetime(created_at, 'unixepoch', 'subsec')`); a `Date` comes back within a
/// microsecond of what was written, exactly when it was built from a whole number of
/// milliseconds since 1970.
public final class SQLiteRunStore: RunStore {
    // `DatabasePool` is Sendable (GRDB serialises every access to its connections), and
    // this class has no other state, so it is Sendable without `@unchecked`.
    let pool: DatabasePool
    /// The last write failure while writes fail (cleared by the next successful write).
    private let failingWrites = Mutex<String?>(nil)

    /// The database file this store has open.
    public let path: String

    /// Opens (creating if needed) `<dataDirectory>/baton.db`, creating the directory too.
    ///
    /// - Throws: `RunStoreError.newerSchema` when the database was migrated by a newer
    ///   Baton; any file-system or SQLite error.
    public convenience init(dataDirectory: URL) throws {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try self.init(path: dataDirectory.appendingPathComponent(Self.fileName).path)
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Throws: `RunStoreError.newerSchema` when the database was migrated by a newer
    ///   Baton (it is left untouched); any SQLite error.
    public init(path: String) throws {
        self.path = path
        pool = try DatabasePool(path: path, configuration: Self.configuration())
        do {
            try Self.migrate(pool)
        } catch {
            try? pool.close()
            throw error
        }
    }

    /// The name of the database file inside the data directory.
    public static let fileName = "baton.db"

    /// How long a write waits for another process holding the write lock (e.g. a
    /// `baton run` and a `baton serve` on one data directory) before failing.
    public static let busyTimeout: TimeInterval = 5

    public var writeProblem: String? { failingWrites.withLock { $0 } }

    /// Every write of the store: one transaction on the serialized writer. A failure for
    /// lack of space becomes `RunStoreError.storageFull` (answered `507`) and marks the
    /// store degraded until a write succeeds again.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try mappingWriteErrors { try pool.write(updates) }
    }

    /// Runs a write `access` to the pool, with the error mapping of ``write(_:)``.
    func mappingWriteErrors<T>(_ access: () throws -> T) throws -> T {
        do {
            let result = try access()
            if failingWrites.withLock({ $0 }) != nil { failingWrites.withLock { $0 = nil } }
            return result
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_FULL {
                let detail = "the disk holding \(path) is full"
                failingWrites.withLock { $0 = detail }
                throw RunStoreError.storageFull(detail)
            }
            if [.SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN].contains(error.resultCode) {
                failingWrites.withLock { $0 = "writes fail: \(error.resultCode)" }
            }
            throw error
        }
    }

    /// Closes every connection. Later calls on this store throw.
    public func close() throws {
        try pool.close()
    }

    /// The identifiers of the migrations applied to this database, in registration order.
    public func schemaVersion() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// The journal mode the database is in (`wal`).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "baton.db"
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // Writer and readers alike. In WAL mode NORMAL syncs the WAL at each
            // checkpoint, not at each commit: a committed transaction survives a crash
            // of the process (kill -9), which is SPEC §3's promise; only a power loss
            // may roll back the last commits. GRDB sets the same on the writer; saying
            // it here keeps the promise visible.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }
}
