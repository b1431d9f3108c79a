import BatonCore
import Foundation
import GRDB

// Stored workflows and keyed runs (SPEC §4 "Stored workflows, cron and webhooks").
extension SQLiteRunStore: WorkflowStore, RunCreationStore {
    public func upsertWorkflow(_ workflow: WorkflowRecord) throws -> Bool {
        let schedule = try workflow.schedule.map(ScheduleCoding.encode)
        return try write { db in
            let existed =
                try Int.fetchOne(db, sql: "SELECT 1 FROM workflows WHERE name = ?", arguments: [workflow.name]) != nil
            try db.execute(
                sql: """
                    INSERT INTO workflows (name, spec_json, schedule_json, webhook_secret, paused, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET spec_json = excluded.spec_json,
                        schedule_json = excluded.schedule_json, webhook_secret = excluded.webhook_secret,
                        paused = excluded.paused, updated_at = excluded.updated_at
                    """,
                arguments: [
                    workflow.name, workflow.specJSON, schedule, workflow.webhookSecret, workflow.paused,
                    StoredDate.seconds(workflow.createdAt), StoredDate.seconds(workflow.updatedAt),
                ])
            return !existed
        }
    }

    public func storedWorkflowSpec(named name: String) throws -> WorkflowSpec? {
        guard let record = try workflow(name: name) else { return nil }
        return try SpecParser.parse(record.specJSON, format: .json, maxTasks: Int.max)
    }

    public func workflow(name: String) throws -> WorkflowRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.workflowColumns) FROM workflows WHERE name = ?", arguments: [name])
                .map(Self.decodeWorkflow)
        }
    }

    public func workflows() throws -> [WorkflowRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.workflowColumns) FROM workflows ORDER BY name").map(
                Self.decodeWorkflow)
        }
    }

    public func deleteWorkflow(name: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM workflows WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func setPaused(name: String, paused: Bool) throws -> WorkflowRecord? {
        try write { db in
            try db.execute(
                sql: "UPDATE workflows SET paused = ?, updated_at = ? WHERE name = ?",
                arguments: [paused, Date().timeIntervalSince1970, name])
            return try Row.fetchOne(
                db, sql: "SELECT \(Self.workflowColumns) FROM workflows WHERE name = ?", arguments: [name]
            ).map(Self.decodeWorkflow)
        }
    }

    /// Every run of `rows` as `createRun` writes it, all in ONE transaction. A key is
    /// looked up inside the transaction, where writes are serialised: a taken key skips
    /// that run (`.duplicate`) without a constraint error undoing the others.
    public func createRuns(_ rows: [NewRunRows]) throws -> [KeyedInsert] {
        if rows.isEmpty { return [] }
        let triggers = try rows.map { try encodeTrigger($0.record.trigger) }
        return try write { db in
            var results: [KeyedInsert] = []
            results.reserveCapacity(rows.count)
            for (rows, trigger) in zip(rows, triggers) {
                let run = rows.record
                if let key = rows.key {
                    let lookup = try db.cachedStatement(sql: "SELECT id FROM runs WHERE run_key = ?")
                    if let existing = try String.fetchOne(lookup, arguments: [key]) {
                        results.append(.duplicate(existingRunID: existing))
                        continue
                    }
                }
                try Self.insertRunRows(run, tasks: rows.tasks, trigger: trigger, db)
                try Self.insertNotifications(rows.notifications, db)
                if let key = rows.key {
                    try db.cachedStatement(sql: "UPDATE runs SET run_key = ? WHERE id = ?").execute(arguments: [
                        key, run.id,
                    ])
                    if let workflow = run.workflow {
                        try db.cachedStatement(
                            sql: """
                                UPDATE workflows SET last_run_id = ?,
                                    last_fired_at = CASE WHEN ? IS NULL THEN last_fired_at
                                        ELSE MAX(COALESCE(last_fired_at, 0), ?) END
                                WHERE name = ?
                                """
                        ).execute(arguments: [
                            run.id, StoredDate.seconds(rows.firedAt), StoredDate.seconds(rows.firedAt), workflow,
                        ])
                    }
                }
                results.append(.inserted)
            }
            return results
        }
    }

    public func markFired(name: String, at instant: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE workflows SET last_fired_at = MAX(COALESCE(last_fired_at, 0), ?) WHERE name = ?",
                arguments: [instant.timeIntervalSince1970, name])
        }
    }

    public func activeRunIDsByWorkflow() throws -> [String: [String]] {
        try pool.read { db in
            var result: [String: [String]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT workflow, id FROM runs
                    WHERE status IN ('queued', 'running') AND workflow IS NOT NULL ORDER BY seq
                    """)
            while let row = try rows.next() {
                result[row[0] as String, default: []].append(row[1])
            }
            return result
        }
    }

    /// Records the latest run of a workflow created without a key (manual runs, retries).
    public func setLastRun(workflow: String, runID: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE workflows SET last_run_id = ? WHERE name = ?", arguments: [runID, workflow])
        }
    }

    static let workflowColumns =
        "name, spec_json, schedule_json, webhook_secret, paused, created_at, updated_at, last_fired_at, last_run_id"

    static func decodeWorkflow(_ row: Row) throws -> WorkflowRecord {
        let scheduleText: String? = try row.decode(atIndex: 2)
        return WorkflowRecord(
            name: try row.decode(atIndex: 0),
            specJSON: try row.decode(atIndex: 1),
            schedule: try scheduleText.map(ScheduleCoding.decode),
            webhookSecret: try row.decode(atIndex: 3),
            paused: try row.decode(atIndex: 4),
            createdAt: StoredDate.date(try row.decode(atIndex: 5)),
            updatedAt: StoredDate.date(try row.decode(atIndex: 6)),
            lastFiredAt: StoredDate.date(try row.decode(atIndex: 7)),
            lastRunID: try row.decode(atIndex: 8))
    }
}

/// A schedule's stored JSON: the cron source and the settings.
enum ScheduleCoding {
    private struct Stored: Codable {
        var cron: String
        var timezone: String
        var overlap: OverlapPolicy
        var missed: MissedPolicy
        var enabled: Bool
    }

    static func encode(_ schedule: Schedule) throws -> String {
        let stored = Stored(
            cron: schedule.cron.source, timezone: schedule.timezone, overlap: schedule.overlap,
            missed: schedule.missed, enabled: schedule.enabled)
        return String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> Schedule {
        let stored = try JSONDecoder().decode(Stored.self, from: Data(text.utf8))
        do {
            return Schedule(
                cron: try CronExpression.parse(stored.cron), timezone: stored.timezone, overlap: stored.overlap,
                missed: stored.missed, enabled: stored.enabled)
        } catch {
            throw StorageError.corruptValue(table: "workflows", column: "schedule_json", value: text)
        }
    }
}
