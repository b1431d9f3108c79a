import BatonCore
import Foundation
import GRDB

// Writes: each public method is one transaction on the serialized writer connection, so
// it returns once the change is committed to the WAL (durable against kill -9) or has
// left no trace at all. Rows go through cached prepared statements, bound once per row:
// a 100,000-task run is one transaction and one statement compiled once.
extension SQLiteRunStore {
    /// Inserts `run` and all its `tasks` in one transaction.
    ///
    /// - Throws: `RunStoreError.duplicateRun` when a run with this id exists (nothing is
    ///   written); any SQLite error, e.g. two tasks with one index.
    public func insertRun(_ run: RunRecord, tasks: [TaskRecord]) throws {
        try insertRun(run, tasks: tasks, alsoInTransaction: { _ in })
    }

    /// `insertRun` plus more writes (a run key, a workflow's marks) in the same transaction.
    func insertRun(
        _ run: RunRecord, tasks: [TaskRecord], alsoInTransaction extra: (Database) throws -> Void
    ) throws {
        let trigger = try encodeTrigger(run.trigger)
        try write { db in
            try Self.insertRunRows(run, tasks: tasks, trigger: trigger, db)
            try extra(db)
        }
    }

    /// The run's row and its tasks' rows, inside the caller's transaction.
    static func insertRunRows(_ run: RunRecord, tasks: [TaskRecord], trigger: String, _ db: Database) throws {
        let exists = try db.cachedStatement(sql: "SELECT 1 FROM runs WHERE id = ?")
        if try Int.fetchOne(exists, arguments: [run.id]) != nil {
            throw RunStoreError.duplicateRun(run.id)
        }
        try db.cachedStatement(sql: Self.insertRunSQL).execute(arguments: [
            run.id, run.name, run.workflow, run.status.rawValue, trigger,
            StoredDate.seconds(run.createdAt), StoredDate.seconds(run.startedAt),
            StoredDate.seconds(run.finishedAt), run.specJSON, run.specHash, run.cancelRequests,
            run.deadlineHit,
        ])
        let insertTask = try db.cachedStatement(sql: Self.insertTaskSQL)
        for task in tasks {
            try insertTask.execute(arguments: task.arguments(runID: run.id))
        }
    }

    /// Applies one engine round in one transaction: run updates, then task and attempt
    /// upserts (insert, or replace every column of the existing row).
    ///
    /// - Throws: `StorageError.unknownRun` when a run update names no stored run;
    ///   any SQLite error, e.g. a task of an unknown run. Nothing is written then.
    public func apply(_ batch: StoreBatch) throws {
        if batch.isEmpty { return }
        try writeInCachedTransaction { db in
            if !batch.runs.isEmpty {
                let update = try db.cachedStatement(sql: Self.updateRunSQL)
                for run in batch.runs {
                    try update.execute(arguments: [
                        run.status.rawValue, StoredDate.seconds(run.startedAt),
                        StoredDate.seconds(run.finishedAt), run.cancelRequests, run.deadlineHit, run.id,
                    ])
                    if db.changesCount == 0 { throw StorageError.unknownRun(run.id) }
                }
            }
            if !batch.tasks.isEmpty {
                let upsert = try db.cachedStatement(sql: Self.upsertTaskSQL)
                for (runID, task) in batch.tasks {
                    var row = BoundStatement(upsert)
                    row.bind(task, runID: runID)
                    try row.execute()
                }
            }
            if !batch.attempts.isEmpty {
                let upsert = try db.cachedStatement(sql: Self.upsertAttemptSQL)
                for attempt in batch.attempts {
                    var row = BoundStatement(upsert)
                    row.bind(attempt)
                    try row.execute()
                }
            }
        }
    }

    /// One transaction on the writer whose BEGIN and COMMIT come from the statement cache:
    /// GRDB's `write` prepares both anew each time, a tenth of `apply`'s CPU when every
    /// task start and end is its own transaction. Errors roll back, as in `write`.
    func writeInCachedTransaction(_ updates: (Database) throws -> Void) throws {
        try mappingWriteErrors {
            try pool.writeWithoutTransaction { db in
                try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
                do {
                    try updates(db)
                    try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    throw error
                }
            }
        }
    }

    private static let insertRunSQL = """
        INSERT INTO runs (id, name, workflow, status, trigger_json, created_at, started_at, \
        finished_at, spec_json, spec_hash, cancel_requests, deadline_hit)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static let updateRunSQL = """
        UPDATE runs SET status = ?, started_at = ?, finished_at = ?, cancel_requests = ?, \
        deadline_hit = ? WHERE id = ?
        """

    private static let insertTaskSQL =
        "INSERT INTO tasks (run_id, \(TaskRecord.columns)) VALUES (\(placeholders(14)))"

    private static let upsertTaskSQL = """
        \(insertTaskSQL)
        ON CONFLICT (run_id, idx) DO UPDATE SET \(assignments(excluding: ["idx"], TaskRecord.columns))
        """

    private static let upsertAttemptSQL = """
        INSERT INTO attempts (\(AttemptRecord.columns)) VALUES (\(placeholders(10)))
        ON CONFLICT (run_id, task_idx, attempt) DO UPDATE SET \
        \(assignments(excluding: ["run_id", "task_idx", "attempt", "queued_at"], AttemptRecord.columns)), \
        queued_at = COALESCE(excluded.queued_at, attempts.queued_at)
        """

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `a = excluded.a, b = excluded.b, …` for the columns of `list` not in `excluded`.
    private static func assignments(excluding excluded: Set<String>, _ list: String) -> String {
        list.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !excluded.contains($0) }
            .map { "\($0) = excluded.\($0)" }
            .joined(separator: ", ")
    }
}
