import BatonCore
import GRDB

// The schema, as named migrations applied in order and recorded in `grdb_migrations`.
// Never edit a migration that has shipped: add a new one at the end of `migrator`.
extension SQLiteRunStore {
    /// Every migration this binary knows, in order.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 runs, tasks, attempts", migrate: createRunsTasksAttempts)
        migrator.registerMigration("v2 workflows, run keys, notifications", migrate: createWorkflows)
        // When each attempt became ready, so the timeline shows queue time (a slot wait).
        migrator.registerMigration("v3 attempt queue time") { db in
            try db.execute(sql: "ALTER TABLE attempts ADD COLUMN queued_at REAL")
        }
        return migrator
    }()

    /// Refuses a database from a newer Baton, then applies the missing migrations.
    static func migrate(_ pool: DatabasePool) throws {
        // The check and the migrations both run on the one writer connection, but in two
        // barriers: a newer binary writing the same file in between is not defended against
        // (two servers on one data directory are not supported anyway).
        try pool.barrierWriteWithoutTransaction { db in
            let known = Set(migrator.migrations)
            let unknown = try migrator.appliedIdentifiers(db).subtracting(known)
            if !unknown.isEmpty {
                throw RunStoreError.newerSchema(found: unknown.sorted().joined(separator: ", "))
            }
        }
        try migrator.migrate(pool)
    }

    private static func createRunsTasksAttempts(_ db: Database) throws {
        // `seq` is the rowid: monotonic (AUTOINCREMENT never reuses a value, even after a
        // delete), the order of the runs list and the content of its cursors.
        // Dates are REAL seconds since 1970. `trigger_json` is RunTrigger's JSON (SPEC §4 shape).
        try db.execute(
            sql: """
                CREATE TABLE runs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    workflow TEXT,
                    status TEXT NOT NULL,
                    trigger_json TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    spec_json BLOB NOT NULL,
                    spec_hash TEXT NOT NULL,
                    cancel_requests INTEGER NOT NULL DEFAULT 0,
                    deadline_hit INTEGER NOT NULL DEFAULT 0
                );
                -- The runs list: newest first, optionally filtered by one of these. The
                -- status index also finds the unfinished runs for recovery (SPEC §3).
                CREATE INDEX runs_by_status ON runs(status, seq);
                CREATE INDEX runs_by_name ON runs(name, seq);
                CREATE INDEX runs_by_workflow ON runs(workflow, seq);

                CREATE TABLE tasks (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    group_name TEXT,
                    status TEXT NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 0,
                    failures INTEGER NOT NULL DEFAULT 0,
                    exit_code INTEGER,
                    signal INTEGER,
                    reason TEXT,
                    started_at REAL,
                    finished_at REAL,
                    pgid INTEGER,
                    retry_at REAL,
                    PRIMARY KEY (run_id, idx)
                ) WITHOUT ROWID;

                CREATE TABLE attempts (
                    run_id TEXT NOT NULL,
                    task_idx INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    started_at REAL NOT NULL,
                    finished_at REAL,
                    exit_code INTEGER,
                    signal INTEGER,
                    status TEXT NOT NULL,
                    log_path TEXT NOT NULL,
                    PRIMARY KEY (run_id, task_idx, attempt),
                    FOREIGN KEY (run_id, task_idx) REFERENCES tasks(run_id, idx) ON DELETE CASCADE
                ) WITHOUT ROWID;
                """)
    }

    private static func createWorkflows(_ db: Database) throws {
        // `run_key` makes cron instants and webhook deliveries idempotent by construction:
        // `cron:<workflow>:<instant ms>` and `hook:<workflow>:<delivery id>` are UNIQUE, so
        // neither a restart nor a retried delivery can create a second run.
        try db.execute(
            sql: """
                ALTER TABLE runs ADD COLUMN run_key TEXT;
                CREATE UNIQUE INDEX runs_by_key ON runs(run_key) WHERE run_key IS NOT NULL;

                CREATE TABLE workflows (
                    name TEXT PRIMARY KEY,
                    spec_json BLOB NOT NULL,
                    schedule_json TEXT,
                    webhook_secret TEXT,
                    paused INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_fired_at REAL,
                    last_run_id TEXT
                ) WITHOUT ROWID;

                CREATE TABLE notifications (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    url TEXT NOT NULL,
                    secret TEXT,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    next_attempt_at REAL,
                    body BLOB NOT NULL,
                    PRIMARY KEY (run_id, idx)
                ) WITHOUT ROWID;
                CREATE INDEX notifications_pending ON notifications(status, next_attempt_at);
                """)
    }
}
