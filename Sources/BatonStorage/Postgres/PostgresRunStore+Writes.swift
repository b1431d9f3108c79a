import BatonCore
import Foundation

// Writes. Rows of a table go to the server as arrays, expanded by `unnest`: a run of
// 100,000 tasks is one INSERT, and one engine round (runs, tasks and attempts) is ONE
// statement, so one round trip, atomic without BEGIN and COMMIT.
extension PostgresRunStore: RunStore {
    /// Inserts `run` and all its `tasks` in one transaction.
    ///
    /// - Throws: `RunStoreError.duplicateRun` when a run with this id exists (nothing is
    ///   written).
    public func insertRun(_ run: RunRecord, tasks: [TaskRecord]) throws {
        let trigger = try encodeTrigger(run.trigger)
        try write {
            try pool.transaction { connection in
                _ = try insertRunRows(run, tasks: tasks, trigger: trigger, key: nil, connection)
            }
        }
    }

    /// The run's row and its tasks' rows, inside the caller's transaction. With a key
    /// that another run holds already, writes nothing and returns that run's id.
    func insertRunRows(
        _ run: RunRecord, tasks: [TaskRecord], trigger: String, key: String?, _ connection: PGConnection
    ) throws -> String? {
        let inserted = try connection.query(
            """
            INSERT INTO runs (id, name, workflow, status, trigger_json, created_at, started_at, finished_at,
                spec_json, spec_hash, cancel_requests, deadline_hit, run_key, owner_node)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT DO NOTHING RETURNING seq
            """,
            [
                run.id, run.name, run.workflow, run.status.rawValue, trigger, PGText.seconds(run.createdAt),
                PGText.seconds(run.startedAt), PGText.seconds(run.finishedAt),
                PGBytea.encode(run.specJSON), run.specHash, String(run.cancelRequests),
                PGText.bool(run.deadlineHit), key, nodeID,
            ])
        if nodeID != nil, inserted.count > 0 {
            owned.withLock { $0[run.id] = 0 }
        }
        if inserted.count == 0 {
            // Which unique column was taken: the key (a fire or delivery seen before), or the id.
            if let key,
                let existing = try connection.query("SELECT id FROM runs WHERE run_key = $1", [key]).string(0, 0)
            {
                return existing
            }
            throw RunStoreError.duplicateRun(run.id)
        }
        if !tasks.isEmpty {
            try connection.query(Self.upsertTasksSQL, TaskColumns(tasks.map { (run.id, $0) }).parameters)
        }
        return nil
    }

    /// Applies one engine round in ONE statement: run updates, then task and attempt
    /// upserts (insert, or replace every column of the existing row; an attempt keeps its
    /// `queued_at` when the new row has none).
    ///
    /// - Throws: `StorageError.unknownRun` when a run update names no stored run (the
    ///   rows of the other runs are written); any PostgreSQL error, e.g. a task of an
    ///   unknown run, and then nothing is written.
    public func apply(_ batch: StoreBatch) throws {
        if batch.isEmpty { return }
        if let nodeID {
            _ = try applyFenced(batch, node: nodeID)
            return
        }
        let runs = RunUpdateColumns(batch.runs)
        let tasks = TaskColumns(Self.lastOfEach(batch.tasks))
        let attempts = AttemptColumns(Self.merged(batch.attempts), node: nil)
        let updated = try write {
            try pool.withConnection { connection in
                try connection.query(Self.applySQL, runs.parameters + tasks.parameters + attempts.parameters)
                    .int(0, 0) ?? 0
            }
        }
        if updated < runs.distinctIDs.count {
            let stored = try pool.withConnection { connection in
                let rows = try connection.query(
                    "SELECT id FROM runs WHERE id = ANY($1::text[])", [PGArray.literal(Array(runs.distinctIDs))])
                return Set((0..<rows.count).compactMap { rows.string($0, 0) })
            }
            if let missing = runs.distinctIDs.subtracting(stored).sorted().first {
                throw StorageError.unknownRun(missing)
            }
        }
    }

    /// One row per task (the last change wins): one INSERT … ON CONFLICT may not touch a
    /// row twice.
    static func lastOfEach(_ tasks: [(runID: String, task: TaskRecord)]) -> [(String, TaskRecord)] {
        var position: [TaskKey: Int] = [:]
        var rows: [(String, TaskRecord)] = []
        for (runID, task) in tasks {
            let key = TaskKey(runID: runID, index: task.index)
            if let existing = position[key] {
                rows[existing] = (runID, task)
            } else {
                position[key] = rows.count
                rows.append((runID, task))
            }
        }
        return rows
    }

    /// One row per attempt: the last change, keeping an earlier `queuedAt` it lacks (what
    /// two upserts in a row would leave).
    static func merged(_ attempts: [AttemptRecord]) -> [AttemptRecord] {
        var position: [AttemptKey: Int] = [:]
        var rows: [AttemptRecord] = []
        for attempt in attempts {
            let key = AttemptKey(
                task: TaskKey(runID: attempt.runID, index: attempt.taskIndex), attempt: attempt.attempt)
            if let existing = position[key] {
                var latest = attempt
                latest.queuedAt = attempt.queuedAt ?? rows[existing].queuedAt
                rows[existing] = latest
            } else {
                position[key] = rows.count
                rows.append(attempt)
            }
        }
        return rows
    }

    private struct TaskKey: Hashable {
        var runID: String
        var index: Int
    }

    private struct AttemptKey: Hashable {
        var task: TaskKey
        var attempt: Int
    }

    static let upsertTasksSQL = """
        INSERT INTO tasks (run_id, \(TaskRecord.columns))
        SELECT * FROM unnest(\(TaskColumns.casts(from: 1)))
        ON CONFLICT (run_id, idx) DO UPDATE SET \(assignments(TaskRecord.columns, excluding: ["idx"]))
        """

    /// Runs ($1–$6), tasks ($7–$20), attempts ($21–$31): data-modifying CTEs of one
    /// statement; the answer is how many runs were updated.
    static let applySQL = applySQL(fenced: false)

    /// An attempt keeps the node that started it (the node that takes a run over closes
    /// the lost node's attempts, but did not run them).
    ///
    /// `applySQL`, plus fencing (cluster mode): only rows of runs that node $34 owns with
    /// the generations of $32/$33 are written, those runs' rows locked first (a takeover
    /// waits for this statement, or this statement sees the takeover); the second column
    /// of the answer lists the runs written.
    static let fencedApplySQL = applySQL(fenced: true)

    /// `fencedApplySQL`, plus the attempts of $35–$39 published as `publish` does, for the
    /// runs written only, in the same statement (so committed with their attempt rows);
    /// the third column of the answer lists the attempts published as `run task attempt`,
    /// comma-separated, and the nodes are woken ($40) when there is any.
    static let fencedApplyPublishingSQL = applySQL(fenced: true, publishing: true)

    private static func applySQL(fenced: Bool, publishing: Bool = false) -> String {
        let owned = fenced ? " AND u.id IN (SELECT id FROM owned)" : ""
        let ownedTasks = fenced ? " WHERE t.run_id IN (SELECT id FROM owned)" : ""
        let ownedAttempts = fenced ? " WHERE a.run_id IN (SELECT id FROM owned)" : ""
        let ownedCTE =
            fenced
            ? """
            owned AS (
                SELECT runs.id FROM runs JOIN unnest($32::text[], $33::int8[]) AS o (id, generation)
                    ON runs.id = o.id AND runs.owner_generation = o.generation
                WHERE runs.owner_node = $34
                FOR UPDATE OF runs
            ),
            """ : ""
        var answer = fenced ? ", (SELECT string_agg(id, ',') FROM owned)" : ""
        let publishedCTE =
            publishing
            ? """
            , published AS (
                INSERT INTO dispatches (run_id, task_idx, attempt, request, runs_on, published_at)
                SELECT u.run_id, u.task_idx, u.attempt, u.request, u.runs_on::jsonb, \(now)
                FROM unnest($35::text[], $36::int[], $37::int[], $38::text[], $39::text[])
                    AS u (run_id, task_idx, attempt, request, runs_on)
                WHERE u.run_id IN (SELECT id FROM owned)
                ON CONFLICT (run_id, task_idx, attempt) DO NOTHING
                RETURNING run_id, task_idx, attempt
            )
            """ : ""
        if publishing {
            answer += """
                , (SELECT string_agg(run_id || ' ' || task_idx || ' ' || attempt, ',') FROM published)\
                , (SELECT pg_notify($40, 'work') FROM published LIMIT 1)
                """
        }
        return """
            WITH \(ownedCTE) updated_runs AS (
                UPDATE runs SET status = u.status, started_at = u.started_at, finished_at = u.finished_at,
                    cancel_requests = u.cancel_requests, deadline_hit = u.deadline_hit
                FROM unnest(\(RunUpdateColumns.casts(from: 1)))
                    AS u (id, status, started_at, finished_at, cancel_requests, deadline_hit)
                WHERE runs.id = u.id\(owned)
                RETURNING runs.id
            ), upserted_tasks AS (
                INSERT INTO tasks (run_id, \(TaskRecord.columns))
                SELECT * FROM unnest(\(TaskColumns.casts(from: 7))) AS t (run_id, \(TaskRecord.columns))\(ownedTasks)
                ON CONFLICT (run_id, idx) DO UPDATE SET \(assignments(TaskRecord.columns, excluding: ["idx"]))
            ), upserted_attempts AS (
                INSERT INTO attempts (\(AttemptRecord.columns), node)
                SELECT * FROM unnest(\(AttemptColumns.casts(from: 21))) AS a (\(AttemptRecord.columns), node)\(ownedAttempts)
                ON CONFLICT (run_id, task_idx, attempt) DO UPDATE SET \
            \(assignments(AttemptRecord.columns, excluding: ["run_id", "task_idx", "attempt", "queued_at"])),
                    queued_at = COALESCE(excluded.queued_at, attempts.queued_at),
                    node = COALESCE(attempts.node, excluded.node)
            )\(publishedCTE)
            SELECT count(*)\(answer) FROM updated_runs
            """
    }

    /// `a = excluded.a, b = excluded.b, …` for the columns of `list` not in `excluded`.
    static func assignments(_ list: String, excluding excluded: Set<String>) -> String {
        list.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !excluded.contains($0) }
            .map { "\($0) = excluded.\($0)" }
            .joined(separator: ", ")
    }
}
