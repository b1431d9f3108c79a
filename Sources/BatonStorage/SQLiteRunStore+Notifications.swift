import BatonCore
import Foundation
import GRDB

// The persisted delivery queue of `notify` POSTs (SPEC §1): a restart loses nothing.
extension SQLiteRunStore: NotificationStore {
    public func enqueueNotifications(_ records: [NotificationRecord]) throws {
        guard !records.isEmpty else { return }
        try write { db in try Self.insertNotifications(records, db) }
    }

    /// Queues deliveries inside the caller's transaction.
    static func insertNotifications(_ records: [NotificationRecord], _ db: Database) throws {
        guard !records.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO notifications (\(Self.notificationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, idx) DO NOTHING
                """)
        for record in records { try insert.execute(arguments: Self.arguments(record)) }
    }

    public func pendingNotifications() throws -> [NotificationRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.notificationColumns) FROM notifications
                    WHERE status = 'pending' ORDER BY next_attempt_at, run_id, idx
                    """
            ).map(Self.decodeNotification)
        }
    }

    public func updateNotification(_ record: NotificationRecord) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE notifications SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, body = ?
                    WHERE run_id = ? AND idx = ?
                    """,
                arguments: [
                    record.status.rawValue, record.attempts, record.lastError,
                    StoredDate.seconds(record.nextAttemptAt), record.body, record.runID, record.index,
                ])
        }
    }

    public func notifications(runID: String) throws -> [NotificationRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.notificationColumns) FROM notifications WHERE run_id = ? ORDER BY idx",
                arguments: [runID]
            ).map(Self.decodeNotification)
        }
    }

    public func runsWithWaitingNotifications() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT run_id FROM notifications WHERE status = 'waiting'")
        }
    }

    static let notificationColumns =
        "run_id, idx, url, secret, status, attempts, last_error, next_attempt_at, body"

    static func arguments(_ record: NotificationRecord) -> StatementArguments {
        [
            record.runID, record.index, record.url, record.secret, record.status.rawValue, record.attempts,
            record.lastError, StoredDate.seconds(record.nextAttemptAt), record.body,
        ]
    }

    static func decodeNotification(_ row: Row) throws -> NotificationRecord {
        let statusText: String = try row.decode(atIndex: 4)
        guard let status = DeliveryStatus(rawValue: statusText) else {
            throw StorageError.corruptValue(table: "notifications", column: "status", value: statusText)
        }
        return NotificationRecord(
            runID: try row.decode(atIndex: 0), index: try row.decode(atIndex: 1), url: try row.decode(atIndex: 2),
            secret: try row.decode(atIndex: 3), status: status, attempts: try row.decode(atIndex: 5),
            lastError: try row.decode(atIndex: 6), nextAttemptAt: StoredDate.date(try row.decode(atIndex: 7)),
            body: try row.decode(atIndex: 8))
    }
}
