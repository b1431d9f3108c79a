import BatonCore
import Foundation

// Stored workflows and keyed runs. A run key is UNIQUE in the database, so a cron instant
// or a webhook delivery creates one run cluster-wide, whichever node handles it.
extension PostgresRunStore: WorkflowStore, RunCreationStore {
    public func upsertWorkflow(_ workflow: WorkflowRecord) throws -> Bool {
        let schedule = try workflow.schedule.map(ScheduleCoding.encode)
        return try write {
            try pool.withConnection { connection in
                // xmax is 0 on a row this statement inserted, set on one it updated.
                try connection.query(
                    """
                    INSERT INTO workflows (name, spec_json, schedule_json, webhook_secret, paused, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (name) DO UPDATE SET spec_json = excluded.spec_json,
                        schedule_json = excluded.schedule_json, webhook_secret = excluded.webhook_secret,
                        paused = excluded.paused, updated_at = excluded.updated_at
                    RETURNING xmax = 0
                    """,
                    [
                        workflow.name, PGBytea.encode(workflow.specJSON), schedule,
                        workflow.webhookSecret, PGText.bool(workflow.paused), PGText.seconds(workflow.createdAt),
                        PGText.seconds(workflow.updatedAt),
                    ]
                ).bool(0, 0) ?? false
            }
        }
    }

    public func storedWorkflowSpec(named name: String) throws -> WorkflowSpec? {
        guard let record = try workflow(name: name) else { return nil }
        return try SpecParser.parse(record.specJSON, format: .json, maxTasks: Int.max)
    }

    public func workflow(name: String) throws -> WorkflowRecord? {
        try read("SELECT \(SQLiteRunStore.workflowColumns) FROM workflows WHERE name = $1", [name]) {
            try Self.workflow($0, $1)
        }.first
    }

    public func workflows() throws -> [WorkflowRecord] {
        try read("SELECT \(SQLiteRunStore.workflowColumns) FROM workflows ORDER BY name", []) {
            try Self.workflow($0, $1)
        }
    }

    public func deleteWorkflow(name: String) throws -> Bool {
        try write {
            try pool.withConnection { try $0.query("DELETE FROM workflows WHERE name = $1", [name]).changes > 0 }
        }
    }

    public func setPaused(name: String, paused: Bool) throws -> WorkflowRecord? {
        try write {
            try pool.withConnection { connection in
                let rows = try connection.query(
                    """
                    UPDATE workflows SET paused = $1, updated_at = $2 WHERE name = $3
                    RETURNING \(SQLiteRunStore.workflowColumns)
                    """,
                    [PGText.bool(paused), PGText.seconds(Date()), name])
                return rows.count == 0 ? nil : try Self.workflow(rows, 0)
            }
        }
    }

    /// Every run of `rows` in ONE transaction. A taken key skips that run only: the insert
    /// says ON CONFLICT DO NOTHING, which waits for a concurrent insert of the same key
    /// (another node firing the same instant) and then sees it.
    public func createRuns(_ rows: [NewRunRows]) throws -> [KeyedInsert] {
        if rows.isEmpty { return [] }
        let triggers = try rows.map { try encodeTrigger($0.record.trigger) }
        return try write {
            try pool.transaction { connection in
                try zip(rows, triggers).map { rows, trigger in
                    let run = rows.record
                    if let existing = try insertRunRows(
                        run, tasks: rows.tasks, trigger: trigger, key: rows.key, connection)
                    {
                        return .duplicate(existingRunID: existing)
                    }
                    try Self.insertNotifications(rows.notifications, connection)
                    if rows.key != nil, let workflow = run.workflow {
                        try connection.query(
                            """
                            UPDATE workflows SET last_run_id = $1,
                                last_fired_at = CASE WHEN $2::float8 IS NULL THEN last_fired_at
                                    ELSE GREATEST(COALESCE(last_fired_at, 0), $2::float8) END
                            WHERE name = $3
                            """, [run.id, PGText.seconds(rows.firedAt), workflow])
                    }
                    return .inserted
                }
            }
        }
    }

    public func markFired(name: String, at instant: Date) throws {
        try write {
            try pool.withConnection { connection in
                try connection.query(
                    "UPDATE workflows SET last_fired_at = GREATEST(COALESCE(last_fired_at, 0), $1) WHERE name = $2",
                    [PGText.seconds(instant), name])
            }
        }
    }

    /// Cluster-wide: the overlap policies count every node's runs.
    public func activeRunIDsByWorkflow() throws -> [String: [String]] {
        let pairs = try read(
            """
            SELECT workflow, id FROM runs
            WHERE status IN ('queued', 'running') AND workflow IS NOT NULL ORDER BY seq
            """, []
        ) { ($0.string($1, 0) ?? "", $0.string($1, 1) ?? "") }
        var result: [String: [String]] = [:]
        for (workflow, id) in pairs { result[workflow, default: []].append(id) }
        return result
    }

    static func workflow(_ rows: PGResult, _ row: Int) throws -> WorkflowRecord {
        WorkflowRecord(
            name: rows.string(row, 0) ?? "",
            specJSON: rows.bytes(row, 1) ?? Data(),
            schedule: try rows.string(row, 2).map(ScheduleCoding.decode),
            webhookSecret: rows.string(row, 3),
            paused: rows.bool(row, 4) ?? false,
            createdAt: rows.date(row, 5) ?? Date(timeIntervalSince1970: 0),
            updatedAt: rows.date(row, 6) ?? Date(timeIntervalSince1970: 0),
            lastFiredAt: rows.date(row, 7),
            lastRunID: rows.string(row, 8))
    }
}
