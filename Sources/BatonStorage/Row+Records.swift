import BatonCore
import Foundation
import GRDB

// Mapping between the records of BatonCore and rows. Columns are read by position, in the
// order of the `columns` lists below (positions are cheaper than names when a run has
// 100,000 tasks); every statement that decodes a row selects exactly that list.

/// A run row: `seq` (its place in the runs list) and the record.
struct StoredRun {
    var seq: Int64
    var record: RunRecord

    static let columns = """
        seq, id, name, workflow, status, trigger_json, created_at, started_at, finished_at, \
        spec_json, spec_hash, cancel_requests, deadline_hit
        """

    init(seq: Int64, record: RunRecord) {
        self.seq = seq
        self.record = record
    }

    /// `columns` with an empty spec, for pages of summaries (`listRuns`).
    static let summaryColumns = columns.replacingOccurrences(of: "spec_json", with: "x'' AS spec_json")

    init(row: Row) throws {
        seq = try row.decode(atIndex: 0)
        record = RunRecord(
            id: try row.decode(atIndex: 1),
            name: try row.decode(atIndex: 2),
            workflow: try row.decode(atIndex: 3),
            status: try decodeStatus(row, atIndex: 4, table: "runs", column: "status"),
            trigger: try decodeTrigger(try row.decode(atIndex: 5)),
            createdAt: StoredDate.date(try row.decode(atIndex: 6)),
            startedAt: StoredDate.date(try row.decode(atIndex: 7)),
            finishedAt: StoredDate.date(try row.decode(atIndex: 8)),
            specJSON: try row.decode(atIndex: 9),
            specHash: try row.decode(atIndex: 10),
            cancelRequests: try row.decode(atIndex: 11),
            deadlineHit: try row.decode(atIndex: 12))
    }
}

extension TaskRecord {
    /// The task columns after `run_id`, in decoding order.
    static let columns = """
        idx, name, group_name, status, attempt, failures, exit_code, signal, reason, \
        started_at, finished_at, pgid, retry_at
        """

    init(row: Row) throws {
        self.init(
            index: try row.decode(atIndex: 0),
            name: try row.decode(atIndex: 1),
            group: try row.decode(atIndex: 2),
            status: try decodeStatus(row, atIndex: 3, table: "tasks", column: "status"),
            attempt: try row.decode(atIndex: 4),
            failures: try row.decode(atIndex: 5),
            exitCode: try row.decode(atIndex: 6),
            signal: try row.decode(atIndex: 7),
            reason: try row.decode(atIndex: 8),
            startedAt: StoredDate.date(try row.decode(atIndex: 9)),
            finishedAt: StoredDate.date(try row.decode(atIndex: 10)),
            pgid: try row.decode(atIndex: 11),
            retryAt: StoredDate.date(try row.decode(atIndex: 12)))
    }

    /// Arguments for `run_id` followed by `columns`.
    func arguments(runID: String) -> StatementArguments {
        [
            runID, index, name, group, status.rawValue, attempt, failures, exitCode, signal, reason,
            StoredDate.seconds(startedAt), StoredDate.seconds(finishedAt), pgid,
            StoredDate.seconds(retryAt),
        ]
    }
}

extension AttemptRecord {
    static let columns = """
        run_id, task_idx, attempt, started_at, finished_at, exit_code, signal, status, log_path, \
        queued_at
        """

    init(row: Row) throws {
        self.init(
            runID: try row.decode(atIndex: 0),
            taskIndex: try row.decode(atIndex: 1),
            attempt: try row.decode(atIndex: 2),
            startedAt: StoredDate.date(try row.decode(Double.self, atIndex: 3)),
            finishedAt: StoredDate.date(try row.decode(atIndex: 4)),
            exitCode: try row.decode(atIndex: 5),
            signal: try row.decode(atIndex: 6),
            status: try decodeStatus(row, atIndex: 7, table: "attempts", column: "status"),
            logPath: try row.decode(atIndex: 8),
            queuedAt: StoredDate.date(try row.decode(atIndex: 9)))
    }

    /// Arguments for `columns`.
    var arguments: StatementArguments {
        [
            runID, taskIndex, attempt, StoredDate.seconds(startedAt), StoredDate.seconds(finishedAt),
            exitCode, signal, status.rawValue, logPath, StoredDate.seconds(queuedAt),
        ]
    }
}

extension BoundStatement {
    /// The values of `TaskRecord.columns`, in order (see `arguments(runID:)`).
    mutating func bind(_ task: TaskRecord, runID: String) {
        bind(runID)
        bind(task.index)
        bind(task.name)
        bind(task.group)
        bind(task.status.rawValue)
        bind(task.attempt)
        bind(task.failures)
        bind(task.exitCode)
        bind(task.signal)
        bind(task.reason)
        bind(task.startedAt)
        bind(task.finishedAt)
        bind(task.pgid)
        bind(task.retryAt)
    }

    /// The values of `AttemptRecord.columns`, in order (see `arguments`).
    mutating func bind(_ attempt: AttemptRecord) {
        bind(attempt.runID)
        bind(attempt.taskIndex)
        bind(attempt.attempt)
        bind(attempt.startedAt)
        bind(attempt.finishedAt)
        bind(attempt.exitCode)
        bind(attempt.signal)
        bind(attempt.status.rawValue)
        bind(attempt.logPath)
        bind(attempt.queuedAt)
    }
}

/// Dates as stored: `REAL` seconds since 1970.
enum StoredDate {
    static func seconds(_ date: Date) -> Double { date.timeIntervalSince1970 }
    static func seconds(_ date: Date?) -> Double? { date.map(seconds) }
    static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }
    static func date(_ seconds: Double?) -> Date? { seconds.map(date) }
}

/// RunTrigger as stored: its SPEC §4 JSON with sorted keys.
func encodeTrigger(_ trigger: RunTrigger) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(trigger), as: UTF8.self)
}

func decodeTrigger(_ json: String) throws -> RunTrigger {
    do {
        return try JSONDecoder().decode(RunTrigger.self, from: Data(json.utf8))
    } catch {
        throw StorageError.corruptValue(table: "runs", column: "trigger_json", value: json)
    }
}

private func decodeStatus<Status: RawRepresentable<String>>(
    _ row: Row, atIndex index: Int, table: String, column: String
) throws -> Status {
    let raw: String = try row.decode(atIndex: index)
    guard let status = Status(rawValue: raw) else {
        throw StorageError.corruptValue(table: table, column: column, value: raw)
    }
    return status
}
