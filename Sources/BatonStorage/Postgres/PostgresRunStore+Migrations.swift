import BatonCore

// The schema, as named migrations applied in order and recorded in `baton_migrations`.
// Never edit a migration that has shipped: add a new one at the end of `migrations`.
extension PostgresRunStore {
    /// Every migration this binary knows, in order.
    static let migrations: [(identifier: String, sql: String)] = [
        ("v1 runs, tasks, attempts, workflows, notifications, nodes", schemaV1),
        ("v2 live events across nodes", schemaV2),
    ]

    /// Arbitrary, fixed: the advisory lock that serialises migrations across nodes.
    private static let migrationLock = 0x6261_746f_6e01  // "baton" 1

    /// Refuses a database from a newer Baton, then applies the missing migrations, in one
    /// transaction under an advisory lock: a second node starting at the same time waits,
    /// then finds everything applied.
    static func migrate(_ connection: PGConnection) throws {
        try connection.execute("BEGIN")
        do {
            try connection.execute(
                """
                SELECT pg_advisory_xact_lock(\(migrationLock));
                CREATE TABLE IF NOT EXISTS baton_migrations (
                    position integer PRIMARY KEY,
                    identifier text NOT NULL UNIQUE,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let rows = try connection.query("SELECT identifier FROM baton_migrations")
            let applied = Set((0..<rows.count).compactMap { rows.string($0, 0) })
            let unknown = applied.subtracting(migrations.map(\.identifier))
            if !unknown.isEmpty {
                throw RunStoreError.newerSchema(found: unknown.sorted().joined(separator: ", "))
            }
            for (position, migration) in migrations.enumerated() where !applied.contains(migration.identifier) {
                try connection.execute(migration.sql)
                try connection.query(
                    "INSERT INTO baton_migrations (position, identifier) VALUES ($1, $2)",
                    [String(position + 1), migration.identifier])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    // Tasks and attempts are rewritten as a run progresses (pending, running, ended): room
    // left in each page (fillfactor) lets PostgreSQL update them in place (HOT) rather
    // than move every version and touch the primary-key index.
    // Dates are double precision seconds since 1970, as in SQLite. `seq` orders the runs
    // list and is the content of its cursors. `owner_node` and `owner_generation` say
    // which node executes a run and fence a node that lost it (issue 9); `run_key` makes
    // cron instants and webhook deliveries unique cluster-wide.
    private static let schemaV1 = """
        CREATE TABLE runs (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            name text NOT NULL,
            workflow text,
            status text NOT NULL,
            trigger_json text NOT NULL,
            created_at double precision NOT NULL,
            started_at double precision,
            finished_at double precision,
            spec_json bytea NOT NULL,
            spec_hash text NOT NULL,
            cancel_requests integer NOT NULL DEFAULT 0,
            deadline_hit boolean NOT NULL DEFAULT false,
            run_key text UNIQUE,
            owner_node text,
            owner_generation bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_by_status ON runs (status, seq);
        CREATE INDEX runs_by_name ON runs (name, seq);
        CREATE INDEX runs_by_workflow ON runs (workflow, seq);
        CREATE INDEX runs_unfinished_by_owner ON runs (owner_node) WHERE status IN ('queued', 'running');

        CREATE TABLE tasks (
            run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            idx integer NOT NULL,
            name text NOT NULL,
            group_name text,
            status text NOT NULL,
            attempt integer NOT NULL DEFAULT 0,
            failures integer NOT NULL DEFAULT 0,
            exit_code integer,
            signal integer,
            reason text,
            started_at double precision,
            finished_at double precision,
            pgid integer,
            retry_at double precision,
            PRIMARY KEY (run_id, idx)
        ) WITH (fillfactor = 70);

        CREATE TABLE attempts (
            run_id text NOT NULL,
            task_idx integer NOT NULL,
            attempt integer NOT NULL,
            started_at double precision NOT NULL,
            finished_at double precision,
            exit_code integer,
            signal integer,
            status text NOT NULL,
            log_path text NOT NULL,
            queued_at double precision,
            node text,
            PRIMARY KEY (run_id, task_idx, attempt),
            FOREIGN KEY (run_id, task_idx) REFERENCES tasks (run_id, idx) ON DELETE CASCADE
        ) WITH (fillfactor = 70);

        CREATE TABLE workflows (
            name text PRIMARY KEY,
            spec_json bytea NOT NULL,
            schedule_json text,
            webhook_secret text,
            paused boolean NOT NULL DEFAULT false,
            created_at double precision NOT NULL,
            updated_at double precision NOT NULL,
            last_fired_at double precision,
            last_run_id text
        );

        CREATE TABLE notifications (
            run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            idx integer NOT NULL,
            url text NOT NULL,
            secret text,
            status text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            next_attempt_at double precision,
            body bytea NOT NULL,
            PRIMARY KEY (run_id, idx)
        );
        CREATE INDEX notifications_pending ON notifications (status, next_attempt_at);

        CREATE TABLE nodes (
            id text PRIMARY KEY,
            hostname text NOT NULL,
            labels text NOT NULL DEFAULT '{}',
            slots integer NOT NULL,
            busy_slots integer NOT NULL DEFAULT 0,
            version text NOT NULL,
            started_at double precision NOT NULL,
            heartbeat_at double precision NOT NULL,
            state text NOT NULL,
            url text
        );

        -- Task attempts handed from a run's owner to any node with a free slot. `request` is
        -- what to run (DispatchedAttempt's JSON); `claimed_by` the node running it; the
        -- outcome columns are written by that node, `stop_signal` by the owner (a kill).
        CREATE TABLE dispatches (
            run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            task_idx integer NOT NULL,
            attempt integer NOT NULL,
            request text NOT NULL,
            runs_on jsonb NOT NULL DEFAULT '{}',
            published_at double precision NOT NULL,
            claimed_by text,
            claimed_at double precision,
            finished_at double precision,
            exit_code integer,
            signal integer,
            failure text,
            lost text,
            stop_signal integer,
            stop_seen integer,
            PRIMARY KEY (run_id, task_idx, attempt)
        );
        CREATE INDEX dispatches_unclaimed ON dispatches (published_at) WHERE claimed_by IS NULL;
        CREATE INDEX dispatches_by_claimer ON dispatches (claimed_by) WHERE claimed_by IS NOT NULL;

        -- Requests for a run's owner from other nodes (a cancel sent to any node).
        CREATE TABLE run_commands (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            command text NOT NULL,
            created_at double precision NOT NULL
        );

        -- Named leases held by one node at a time (the cron ticker's owner).
        CREATE TABLE leases (
            name text PRIMARY KEY,
            owner text NOT NULL,
            expires_at double precision NOT NULL,
            generation bigint NOT NULL
        )
        """

    // Live events across nodes: how many watchers each node has (the others relay their
    // events while some node has any), and events too big for a notification's payload.
    private static let schemaV2 = """
        ALTER TABLE nodes ADD COLUMN watchers integer NOT NULL DEFAULT 0;
        CREATE TABLE event_relay (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            origin text NOT NULL,
            created_at double precision NOT NULL,
            body text NOT NULL
        );
        CREATE INDEX event_relay_created ON event_relay (created_at)
        """
}
