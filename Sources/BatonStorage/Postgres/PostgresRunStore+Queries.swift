import BatonCore

// Reads: each one statement, so each sees one committed state of the database (READ
// COMMITTED takes one snapshot per statement), never half an engine round.
extension PostgresRunStore {
    public func run(id: String) throws -> RunRecord? {
        try read("SELECT \(StoredRun.columns) FROM runs WHERE id = $1", [id]) { try $0.storedRun($1).record }.first
    }

    public func tasks(runID: String) throws -> [TaskRecord] {
        try read("SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = $1 ORDER BY idx", [runID]) {
            try $0.task($1)
        }
    }

    public func task(runID: String, named name: String) throws -> TaskRecord? {
        try read("SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = $1 AND name = $2", [runID, name]) {
            try $0.task($1)
        }.first
    }

    public func attempts(runID: String, taskIndex: Int) throws -> [AttemptRecord] {
        try read(
            "SELECT \(AttemptRecord.columns) FROM attempts WHERE run_id = $1 AND task_idx = $2 ORDER BY attempt",
            [runID, String(taskIndex)]
        ) { try $0.attempt($1) }
    }

    /// One page of a run's tasks in index order, read by the primary key.
    public func tasks(runID: String, from: Int, status: TaskStatus?, group: String?, limit: Int) throws
        -> [TaskRecord]
    {
        var sql = "SELECT \(TaskRecord.columns) FROM tasks WHERE run_id = $1 AND idx >= $2"
        var parameters: [String?] = [runID, String(from)]
        if let status {
            parameters.append(status.rawValue)
            sql += " AND status = $\(parameters.count)"
        }
        if let group {
            parameters.append(group)
            sql += " AND group_name = $\(parameters.count)"
        }
        parameters.append(String(max(1, limit)))
        sql += " ORDER BY idx LIMIT $\(parameters.count)"
        return try read(sql, parameters) { try $0.task($1) }
    }

    public func attempts(runID: String) throws -> [AttemptRecord] {
        try read(
            "SELECT \(AttemptRecord.columns) FROM attempts WHERE run_id = $1 ORDER BY task_idx, attempt", [runID]
        ) { try $0.attempt($1) }
    }

    /// One page of runs, newest first (see `SQLiteRunStore.listRuns`: the same cursors).
    /// Runs are ordered by `seq`, taken at insert: with several nodes inserting at once, a
    /// run may commit after a higher `seq` was already listed.
    public func listRuns(_ query: RunQuery) throws -> RunPage {
        var conditions: [String] = []
        var parameters: [String?] = []
        func condition(_ column: String, _ operation: String, _ value: String) {
            parameters.append(value)
            conditions.append("\(column) \(operation) $\(parameters.count)")
        }
        if let cursor = query.cursor { condition("seq", "<", String(try RunCursor.decode(cursor))) }
        if let status = query.status { condition("status", "=", status.rawValue) }
        if let name = query.name { condition("name", "=", name) }
        if let workflow = query.workflow { condition("workflow", "=", workflow) }
        let limit = min(max(1, query.limit), 1_000_000)
        parameters.append(String(limit + 1))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try read(
            "SELECT \(Self.summaryColumns) FROM runs \(filter) ORDER BY seq DESC LIMIT $\(parameters.count)",
            parameters
        ) { try $0.storedRun($1) }
        return RunPage.of(rows, limit: limit)
    }

    /// Runs whose status is `queued` or `running`, oldest first: in cluster mode only the
    /// ones this node owns (the others are their owners' to resume).
    public func unfinishedRuns() throws -> [RunRecord] {
        guard let nodeID else {
            return try read(
                "SELECT \(StoredRun.columns) FROM runs WHERE status IN ('queued', 'running') ORDER BY seq", []
            ) { try $0.storedRun($1).record }
        }
        let runs = try read(
            """
            SELECT \(StoredRun.columns), owner_generation FROM runs
            WHERE status IN ('queued', 'running') AND owner_node = $1 ORDER BY seq
            """, [nodeID]
        ) { (try $0.storedRun($1).record, Int64($0.int($1, 13) ?? 0)) }
        // The executor resumes these: its writes of them are fenced by these generations.
        owned.withLock { owned in
            for (run, generation) in runs { owned[run.id] = generation }
        }
        return runs.map(\.0)
    }

    public func taskCounts(runID: String) throws -> [TaskStatus: Int] {
        let pairs = try read("SELECT status, count(*) FROM tasks WHERE run_id = $1 GROUP BY status", [runID]) {
            result, row -> (TaskStatus, Int) in
            let raw = result.string(row, 0) ?? "NULL"
            guard let status = TaskStatus(rawValue: raw) else {
                throw StorageError.corruptValue(table: "tasks", column: "status", value: raw)
            }
            return (status, result.int(row, 1) ?? 0)
        }
        return Dictionary(pairs, uniquingKeysWith: +)
    }

    /// The run columns with an empty spec (see `RunStore.listRuns`).
    static let summaryColumns = StoredRun.columns.replacingOccurrences(of: "spec_json", with: "''::bytea AS spec_json")

    /// Runs one statement and maps each row.
    func read<T>(_ sql: String, _ parameters: [String?], _ row: (PGResult, Int) throws -> T) throws -> [T] {
        try pool.withConnection { connection in
            let result = try connection.query(sql, parameters)
            return try (0..<result.count).map { try row(result, $0) }
        }
    }
}
