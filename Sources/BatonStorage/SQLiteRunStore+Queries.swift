import BatonCore
import GRDB

// Reads: each runs on a reader connection of the pool, concurrently with the writer and
// other readers, and sees one committed state of the database (WAL snapshot).
extension SQLiteRunStore {
    /// The run with this id, or nil.
    public func run(id: String) throws -> RunRecord? {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(StoredRun.columns) FROM runs WHERE id = ?")
            return try Row.fetchOne(statement, arguments: [id]).map { try StoredRun(row: $0).record }
        }
    }

    /// The tasks of a run, ordered by index (empty for an unknown run).
    public func tasks(runID: String) throws -> [TaskRecord] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = ? ORDER BY idx")
            return try Array(Row.fetchCursor(statement, arguments: [runID]).map(TaskRecord.init(row:)))
        }
    }

    /// One task of a run by name (the log endpoint: a client tailing a log of a
    /// 100,000-task run must not load every task per poll).
    public func task(runID: String, named name: String) throws -> TaskRecord? {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = ? AND name = ?")
            return try Row.fetchOne(statement, arguments: [runID, name]).map(TaskRecord.init(row:))
        }
    }

    /// The attempts of one task, ordered by attempt number.
    public func attempts(runID: String, taskIndex: Int) throws -> [AttemptRecord] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT \(AttemptRecord.columns) FROM attempts
                    WHERE run_id = ? AND task_idx = ? ORDER BY attempt
                    """)
            return try Array(
                Row.fetchCursor(statement, arguments: [runID, taskIndex]).map(AttemptRecord.init(row:)))
        }
    }

    /// One page of a run's tasks in index order (`GET /v1/runs/{id}/tasks`), read by the
    /// primary key: a page costs its own rows, not the whole run.
    public func tasks(runID: String, from: Int, status: TaskStatus?, group: String?, limit: Int) throws
        -> [TaskRecord]
    {
        var sql = "SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = ? AND idx >= ?"
        var arguments: StatementArguments = [runID, from]
        if let status {
            sql += " AND status = ?"
            arguments += [status.rawValue]
        }
        if let group {
            sql += " AND group_name = ?"
            arguments += [group]
        }
        sql += " ORDER BY idx LIMIT ?"
        arguments += [max(1, limit)]
        return try pool.read { db in
            try Array(Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments).map(TaskRecord.init(row:)))
        }
    }

    /// Every attempt of a run (the timeline), in one query.
    public func attempts(runID: String) throws -> [AttemptRecord] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(AttemptRecord.columns) FROM attempts WHERE run_id = ? ORDER BY task_idx, attempt")
            return try Array(Row.fetchCursor(statement, arguments: [runID]).map(AttemptRecord.init(row:)))
        }
    }

    /// One page of runs, newest first, matching every filter of `query` exactly.
    ///
    /// `limit` is clamped to 1…1,000,000. Pages are keyed on the run's insertion order, so
    /// runs inserted while a client pages through appear on no later page (they are
    /// newer than its first page), and none is repeated or skipped.
    ///
    /// - Throws: `RunStoreError.invalidCursor` for a cursor this store did not make.
    public func listRuns(_ query: RunQuery) throws -> RunPage {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let cursor = query.cursor {
            conditions.append("seq < ?")
            arguments += [try RunCursor.decode(cursor)]
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let name = query.name {
            conditions.append("name = ?")
            arguments += [name]
        }
        if let workflow = query.workflow {
            conditions.append("workflow = ?")
            arguments += [workflow]
        }
        let limit = min(max(1, query.limit), 1_000_000)
        // One row past the page tells whether there is a next page.
        arguments += [limit + 1]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(StoredRun.summaryColumns) FROM runs \(filter) ORDER BY seq DESC LIMIT ?"
        let rows = try pool.read { db in
            try Array(Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments).map(StoredRun.init(row:)))
        }
        return RunPage.of(rows, limit: limit)
    }

    /// Runs whose status is `queued` or `running`, oldest first.
    public func unfinishedRuns() throws -> [RunRecord] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT \(StoredRun.columns) FROM runs
                    WHERE status IN ('queued', 'running') ORDER BY seq
                    """)
            return try Array(Row.fetchCursor(statement).map { try StoredRun(row: $0).record })
        }
    }

    /// How many tasks of a run are in each status (statuses with no task are absent), for
    /// the `counts` of a run summary without loading its tasks.
    public func taskCounts(runID: String) throws -> [TaskStatus: Int] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT status, COUNT(*) FROM tasks WHERE run_id = ? GROUP BY status")
            var counts: [TaskStatus: Int] = [:]
            for row in try Row.fetchAll(statement, arguments: [runID]) {
                let raw: String = try row.decode(atIndex: 0)
                guard let status = TaskStatus(rawValue: raw) else {
                    throw StorageError.corruptValue(table: "tasks", column: "status", value: raw)
                }
                counts[status] = try row.decode(atIndex: 1)
            }
            return counts
        }
    }
}
