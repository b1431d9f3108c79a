import Foundation
import GRDB
import GRDBSQLite

/// Binds values to a cached GRDB statement and steps it through SQLite's C API.
///
/// `apply` writes two rows per task state change, and on a run of 10,000 short tasks that
/// is the executor's hottest store path: GRDB's `execute(arguments:)` boxes every value in
/// a `DatabaseValue` existential and validates the argument list each time, which cost a
/// quarter of `apply`'s CPU. The statement still comes from GRDB's cache and runs inside
/// a transaction that GRDB opened and commits, so GRDB's view of the connection (its
/// transaction state, its statement cache) stays true. Only for statements that return
/// no rows, inside a transaction, with every parameter bound on each use.
struct BoundStatement {
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private var next: Int32 = 1

    /// SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement
        sqlite3_reset(statement.sqliteStatement)
    }

    mutating func bind(_ value: String) {
        value.utf8CString.withUnsafeBufferPointer { text in
            _ = sqlite3_bind_text(handle, next, text.baseAddress, Int32(text.count - 1), Self.transient)
        }
        next += 1
    }

    mutating func bind(_ value: String?) {
        if let value { bind(value) } else { bindNull() }
    }

    mutating func bind(_ value: Int) {
        sqlite3_bind_int64(handle, next, Int64(value))
        next += 1
    }

    mutating func bind(_ value: Int32?) {
        if let value {
            sqlite3_bind_int64(handle, next, Int64(value))
            next += 1
        } else {
            bindNull()
        }
    }

    mutating func bind(_ value: Date?) {
        if let value {
            sqlite3_bind_double(handle, next, StoredDate.seconds(value))
            next += 1
        } else {
            bindNull()
        }
    }

    mutating func bindNull() {
        sqlite3_bind_null(handle, next)
        next += 1
    }

    /// Runs the statement to its end. Throws the `DatabaseError` GRDB would throw; the
    /// caller's transaction is then rolled back by GRDB.
    func execute() throws {
        precondition(next - 1 == sqlite3_bind_parameter_count(handle), "every parameter is bound on each use")
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE:
                sqlite3_reset(handle)
                return
            case SQLITE_ROW:
                continue
            case let code:
                let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
                sqlite3_reset(handle)
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
            }
        }
    }
}
