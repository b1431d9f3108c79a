import BatonCore
import Foundation

// Records from PostgreSQL rows, read by position in the order of the same `columns` lists
// the SQLite store selects (StoredRun.columns, TaskRecord.columns, AttemptRecord.columns).
extension PGResult {
    /// A run row (`StoredRun.columns`): its `seq` and the record.
    func storedRun(_ row: Int) throws -> StoredRun {
        let record = RunRecord(
            id: try required(row, 1, "runs", "id"),
            name: try required(row, 2, "runs", "name"),
            workflow: string(row, 3),
            status: try status(row, 4, "runs"),
            trigger: try decodeTrigger(try required(row, 5, "runs", "trigger_json")),
            createdAt: date(row, 6) ?? Date(timeIntervalSince1970: 0),
            startedAt: date(row, 7),
            finishedAt: date(row, 8),
            specJSON: bytes(row, 9) ?? Data(),
            specHash: string(row, 10) ?? "",
            cancelRequests: int(row, 11) ?? 0,
            deadlineHit: bool(row, 12) ?? false)
        return StoredRun(seq: Int64(int(row, 0) ?? 0), record: record)
    }

    /// A task row (`TaskRecord.columns`).
    func task(_ row: Int) throws -> TaskRecord {
        TaskRecord(
            index: int(row, 0) ?? 0,
            name: try required(row, 1, "tasks", "name"),
            group: string(row, 2),
            status: try status(row, 3, "tasks"),
            attempt: int(row, 4) ?? 0,
            failures: int(row, 5) ?? 0,
            exitCode: int(row, 6).map(Int32.init(truncatingIfNeeded:)),
            signal: int(row, 7).map(Int32.init(truncatingIfNeeded:)),
            reason: string(row, 8),
            startedAt: date(row, 9),
            finishedAt: date(row, 10),
            pgid: int(row, 11).map(Int32.init(truncatingIfNeeded:)),
            retryAt: date(row, 12))
    }

    /// An attempt row (`AttemptRecord.columns`).
    func attempt(_ row: Int) throws -> AttemptRecord {
        AttemptRecord(
            runID: try required(row, 0, "attempts", "run_id"),
            taskIndex: int(row, 1) ?? 0,
            attempt: int(row, 2) ?? 0,
            startedAt: date(row, 3) ?? Date(timeIntervalSince1970: 0),
            finishedAt: date(row, 4),
            exitCode: int(row, 5).map(Int32.init(truncatingIfNeeded:)),
            signal: int(row, 6).map(Int32.init(truncatingIfNeeded:)),
            status: try status(row, 7, "attempts"),
            logPath: string(row, 8) ?? "",
            queuedAt: date(row, 9))
    }

    private func required(_ row: Int, _ column: Int, _ table: String, _ name: String) throws -> String {
        guard let value = string(row, column) else {
            throw StorageError.corruptValue(table: table, column: name, value: "NULL")
        }
        return value
    }

    private func status<Status: RawRepresentable<String>>(_ row: Int, _ column: Int, _ table: String) throws
        -> Status
    {
        let raw = string(row, column) ?? "NULL"
        guard let status = Status(rawValue: raw) else {
            throw StorageError.corruptValue(table: table, column: "status", value: raw)
        }
        return status
    }
}
