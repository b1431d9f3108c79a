import GRDB

// Raw SQL for the storage tests (same package only): they plant states no public method
// produces (a migration from the future) and hold a write open to test concurrent reads.
extension SQLiteRunStore {
    /// Runs `sql` in a write transaction.
    package func executeForTesting(sql: String) throws {
        try pool.write { db in try db.execute(sql: sql) }
    }

    /// Column `column` of every row of `sql` as text ("" for NULL), read on a reader
    /// connection.
    package func fetchStringsForTesting(sql: String, column: Int = 0) throws -> [String] {
        try pool.read { db in try Self.strings(db, sql: sql, column: column) }
    }

    /// Runs `sql` in a write transaction, then `body` before committing, so that a test
    /// can read while a write is in progress.
    package func withWriteInProgressForTesting(sql: String, _ body: () throws -> Void) throws {
        try pool.write { db in
            try db.execute(sql: sql)
            try body()
        }
    }

    /// Column `column` of every row of `sql` on the database file at `path`, opened
    /// read-only without a store (so neither migrated nor refused).
    package static func fetchStringsForTesting(path: String, sql: String, column: Int = 0) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in try strings(db, sql: sql, column: column) }
    }

    private static func strings(_ db: Database, sql: String, column: Int) throws -> [String] {
        try Row.fetchAll(db, sql: sql).map { row in
            switch (row[column] as DatabaseValue).storage {
            case .null: return ""
            case .int64(let value): return String(value)
            case .double(let value): return String(value)
            case .string(let value): return value
            case .blob(let value): return "<\(value.count) bytes>"
            }
        }
    }
}
