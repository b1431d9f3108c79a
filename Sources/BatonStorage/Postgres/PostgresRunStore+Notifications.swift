import BatonCore
import Foundation

// The persisted delivery queue of `notify` POSTs.
extension PostgresRunStore: NotificationStore {
    public func enqueueNotifications(_ records: [NotificationRecord]) throws {
        guard !records.isEmpty else { return }
        try write { try pool.withConnection { try Self.insertNotifications(records, $0) } }
    }

    /// Queues deliveries with the caller's connection (inside its transaction, if any).
    static func insertNotifications(_ records: [NotificationRecord], _ connection: PGConnection) throws {
        for record in records {
            try connection.query(
                """
                INSERT INTO notifications (\(SQLiteRunStore.notificationColumns))
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (run_id, idx) DO NOTHING
                """,
                [
                    record.runID, String(record.index), record.url, record.secret, record.status.rawValue,
                    String(record.attempts), record.lastError, PGText.seconds(record.nextAttemptAt),
                    PGBytea.encode(record.body),
                ])
        }
    }

    /// In cluster mode, the deliveries of the runs this node owns: each delivery has one
    /// sender.
    public func pendingNotifications() throws -> [NotificationRecord] {
        let mine = nodeID == nil ? "" : " AND run_id IN (SELECT id FROM runs WHERE owner_node = $1)"
        return try read(
            """
            SELECT \(SQLiteRunStore.notificationColumns) FROM notifications
            WHERE status = 'pending'\(mine) ORDER BY next_attempt_at, run_id, idx
            """, nodeID.map { [$0] } ?? []
        ) { try Self.notification($0, $1) }
    }

    public func updateNotification(_ record: NotificationRecord) throws {
        try write {
            try pool.withConnection { connection in
                try connection.query(
                    """
                    UPDATE notifications SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4,
                        body = $5
                    WHERE run_id = $6 AND idx = $7
                    """,
                    [
                        record.status.rawValue, String(record.attempts), record.lastError,
                        PGText.seconds(record.nextAttemptAt), PGBytea.encode(record.body), record.runID,
                        String(record.index),
                    ])
            }
        }
    }

    public func notifications(runID: String) throws -> [NotificationRecord] {
        try read(
            "SELECT \(SQLiteRunStore.notificationColumns) FROM notifications WHERE run_id = $1 ORDER BY idx", [runID]
        ) { try Self.notification($0, $1) }
    }

    public func runsWithWaitingNotifications() throws -> [String] {
        let mine = nodeID == nil ? "" : " AND run_id IN (SELECT id FROM runs WHERE owner_node = $1)"
        return try read(
            "SELECT DISTINCT run_id FROM notifications WHERE status = 'waiting'\(mine)", nodeID.map { [$0] } ?? []
        ) { $0.string($1, 0) ?? "" }
    }

    static func notification(_ rows: PGResult, _ row: Int) throws -> NotificationRecord {
        let raw = rows.string(row, 4) ?? "NULL"
        guard let status = DeliveryStatus(rawValue: raw) else {
            throw StorageError.corruptValue(table: "notifications", column: "status", value: raw)
        }
        return NotificationRecord(
            runID: rows.string(row, 0) ?? "", index: rows.int(row, 1) ?? 0, url: rows.string(row, 2) ?? "",
            secret: rows.string(row, 3), status: status, attempts: rows.int(row, 5) ?? 0,
            lastError: rows.string(row, 6), nextAttemptAt: rows.date(row, 7), body: rows.bytes(row, 8) ?? Data())
    }
}
