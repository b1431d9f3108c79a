import BatonCore
import Foundation

// Task attempts shared between nodes (cluster mode, TaskDispatch). The claim is an UPDATE
// of rows picked with FOR UPDATE SKIP LOCKED: two nodes claiming at once take different
// attempts, never one twice. Each change wakes whoever must act through NOTIFY in the same
// statement (`work` for every node, `done:<owner>`, `stop:<claimer>`), delivered at commit.
extension PostgresRunStore: TaskDispatch {
    /// Writes an engine round and publishes `attempts` in one statement (one round trip
    /// instead of two on the way from a task's readiness to its start on another node).
    public func apply(_ batch: StoreBatch, publishing attempts: [DispatchedAttempt]) throws -> Set<DispatchKey> {
        guard let nodeID else {
            try apply(batch)
            return []
        }
        return try applyFenced(batch, node: nodeID, publishing: attempts)
    }

    /// The attempts as statement arguments: run ids, task indexes, attempts, requests,
    /// `runs_on` labels, then the wake-up channel (`publish`'s $1–$6, the publishing
    /// apply's $35–$40).
    static func publishArguments(_ attempts: [DispatchedAttempt]) throws -> [String?] {
        let encoder = JSONEncoder()
        let requests = try attempts.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return [
            PGArray.literal(attempts.map { Optional($0.runID) }),
            PGArray.literal(attempts.map { Optional($0.taskIndex) }),
            PGArray.literal(attempts.map { Optional($0.attempt) }),
            PGArray.literal(requests.map { Optional($0) }),
            PGArray.literal(attempts.map { Optional(Self.encodeLabels($0.runsOn)) }),
            Self.channel,
        ]
    }

    public func publish(_ attempts: [DispatchedAttempt]) throws -> Set<DispatchKey> {
        guard let nodeID, !attempts.isEmpty else { return [] }
        let arguments = try Self.publishArguments(attempts)
        // The generation this node holds each run by: a run taken over meanwhile publishes nothing.
        let generations = owned.withLock { owned in attempts.map { owned[$0.runID].map(Int.init) ?? -1 } }
        return try write {
            // Only for runs this node still owns, by the generation it believes in (a node
            // that lost a run publishes nothing of it); a take-over deletes the run's
            // dispatches in its own transaction, and the run rows are share-locked here: a
            // take-over waits for this statement and then deletes these rows, or this
            // statement sees its new generation. Identical notifications of one
            // transaction are delivered once.
            Set(
                try read(
                    """
                    WITH published AS (
                        INSERT INTO dispatches (run_id, task_idx, attempt, request, runs_on, published_at)
                        SELECT u.run_id, u.task_idx, u.attempt, u.request, u.runs_on::jsonb, \(Self.now)
                        FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $8::int8[])
                            AS u (run_id, task_idx, attempt, request, runs_on, generation)
                        JOIN runs r ON r.id = u.run_id AND r.owner_node = $7 AND r.owner_generation = u.generation
                        FOR SHARE OF r
                        ON CONFLICT (run_id, task_idx, attempt) DO NOTHING
                        RETURNING run_id, task_idx, attempt
                    )
                    SELECT run_id, task_idx, attempt, pg_notify($6, 'work') FROM published
                    """,
                    arguments + [nodeID, PGArray.literal(generations.map { Optional($0) })]
                ) { rows, row in
                    DispatchKey(
                        runID: rows.string(row, 0) ?? "", taskIndex: rows.int(row, 1) ?? 0,
                        attempt: rows.int(row, 2) ?? 0)
                })
        }
    }

    public func takeOutcomes() throws -> [DispatchOutcome] {
        guard let nodeID else { return [] }
        return try write {
            try read(
                """
                DELETE FROM dispatches d USING runs r
                WHERE d.run_id = r.id AND r.owner_node = $1 AND d.finished_at IS NOT NULL
                RETURNING d.run_id, d.task_idx, d.attempt, d.exit_code, d.signal, d.failure, d.lost
                """, [nodeID], Self.outcome)
        }
    }

    public func takeLostAttempts(leaseSeconds: Double) throws -> [DispatchOutcome] {
        guard let nodeID else { return [] }
        return try write {
            try read(
                """
                DELETE FROM dispatches d USING runs r
                WHERE d.run_id = r.id AND r.owner_node = $1 AND d.claimed_by IS NOT NULL AND d.finished_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = d.claimed_by AND n.state <> 'stopped'
                        AND n.heartbeat_at >= \(Self.now) - $2::float8)
                RETURNING d.run_id, d.task_idx, d.attempt, NULL, NULL, NULL,
                    'interrupted: node ' || d.claimed_by || ' lost'
                """, [nodeID, PGText.double(leaseSeconds)], Self.outcome)
        }
    }

    public func stop(_ key: DispatchKey, signal: Int32) throws -> Bool {
        try write {
            try pool.transaction { connection in
                // Not claimed yet: withdrawn, it never runs.
                let withdrawn = try connection.query(
                    "DELETE FROM dispatches WHERE run_id = $1 AND task_idx = $2 AND attempt = $3 AND claimed_by IS NULL",
                    Self.parameters(key))
                if withdrawn.changes > 0 { return false }
                // SIGKILL (9) overrides a SIGTERM (15) not yet acted on, never the reverse.
                try connection.query(
                    """
                    WITH stopped AS (
                        UPDATE dispatches SET stop_signal = CASE WHEN stop_signal = 9 THEN 9 ELSE $4 END
                        WHERE run_id = $1 AND task_idx = $2 AND attempt = $3 AND finished_at IS NULL
                        RETURNING claimed_by
                    )
                    SELECT pg_notify($5, 'stop:' || claimed_by) FROM stopped
                    """, Self.parameters(key) + [String(signal), Self.channel])
                return true
            }
        }
    }

    public func withdraw(runIDs: [String]) throws {
        guard !runIDs.isEmpty else { return }
        try write {
            try pool.withConnection { connection in
                try connection.query(
                    "DELETE FROM dispatches WHERE run_id = ANY($1::text[])", [PGArray.literal(runIDs)])
            }
        }
    }

    public func liveSlots(leaseSeconds: Double) throws -> Int {
        try read(
            """
            SELECT COALESCE(sum(slots), 0) FROM nodes
            WHERE state <> 'stopped' AND heartbeat_at >= \(Self.now) - $1::float8
            """, [PGText.double(leaseSeconds)]
        ) { $0.int($1, 0) ?? 0 }.first ?? 0
    }

    public func claim(limit: Int) throws -> [DispatchedAttempt] {
        guard let nodeID, limit > 0 else { return [] }
        let requests = try write {
            // The attempt's row names the node that runs it (its owner wrote its own name
            // before deciding to dispatch it).
            try read(
                """
                WITH claimed AS (
                    UPDATE dispatches SET claimed_by = $1, claimed_at = \(Self.now)
                    WHERE (run_id, task_idx, attempt) IN (
                        SELECT run_id, task_idx, attempt FROM dispatches
                        WHERE claimed_by IS NULL AND $3::jsonb @> runs_on
                        ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                    RETURNING run_id, task_idx, attempt, request
                ), marked AS (
                    UPDATE attempts a SET node = $1 FROM claimed c
                    WHERE a.run_id = c.run_id AND a.task_idx = c.task_idx AND a.attempt = c.attempt
                )
                SELECT request FROM claimed
                """, [nodeID, String(limit), Self.encodeLabels(labels.withLock { $0 })]
            ) { $0.string($1, 0) ?? "" }
        }
        let attempts = try requests.map { try JSONDecoder().decode(DispatchedAttempt.self, from: Data($0.utf8)) }
        claims.withLock { claims in
            for attempt in attempts { claims.insert(attempt.key) }
        }
        return attempts
    }

    public func finish(_ outcomes: [DispatchOutcome]) throws {
        guard let nodeID, !outcomes.isEmpty else { return }
        try write {
            try pool.withConnection { connection in
                try connection.query(
                    """
                    WITH finished AS (
                        UPDATE dispatches d SET finished_at = \(Self.now), exit_code = o.exit_code, signal = o.signal,
                            failure = o.failure, lost = o.lost
                        FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::text[], $7::text[])
                            AS o (run_id, task_idx, attempt, exit_code, signal, failure, lost)
                        WHERE d.run_id = o.run_id AND d.task_idx = o.task_idx AND d.attempt = o.attempt
                            AND d.claimed_by = $8 AND d.finished_at IS NULL
                        RETURNING d.run_id
                    )
                    SELECT pg_notify($9, 'done:' || COALESCE(r.owner_node, ''))
                    FROM finished JOIN runs r ON r.id = finished.run_id
                    """,
                    [
                        PGArray.literal(outcomes.map { Optional($0.key.runID) }),
                        PGArray.literal(outcomes.map { Optional($0.key.taskIndex) }),
                        PGArray.literal(outcomes.map { Optional($0.key.attempt) }),
                        PGArray.literal(outcomes.map { $0.exitCode.map(Int.init) }),
                        PGArray.literal(outcomes.map { $0.signal.map(Int.init) }),
                        PGArray.literal(outcomes.map(\.failure)), PGArray.literal(outcomes.map(\.lost)), nodeID,
                        Self.channel,
                    ])
            }
        }
        // Held until reported: a claim whose report failed is still this node's.
        claims.withLock { claims in
            for outcome in outcomes { claims.remove(outcome.key) }
        }
    }

    public func takeStops() throws -> [(key: DispatchKey, signal: Int32)] {
        guard let nodeID else { return [] }
        return try write {
            try read(
                """
                UPDATE dispatches SET stop_seen = stop_signal
                WHERE claimed_by = $1 AND finished_at IS NULL AND stop_signal IS DISTINCT FROM stop_seen
                RETURNING run_id, task_idx, attempt, stop_signal
                """, [nodeID]
            ) { rows, row in
                (
                    DispatchKey(
                        runID: rows.string(row, 0) ?? "", taskIndex: rows.int(row, 1) ?? 0,
                        attempt: rows.int(row, 2) ?? 0),
                    Int32(truncatingIfNeeded: rows.int(row, 3) ?? 15)
                )
            }
        }
    }

    public func revokedClaims() throws -> [DispatchKey] {
        guard let nodeID else { return [] }
        let held = Array(claims.withLock { $0 })
        guard !held.isEmpty else { return [] }
        let still = Set(
            try read(
                """
                SELECT d.run_id, d.task_idx, d.attempt
                FROM unnest($1::text[], $2::int[], $3::int[]) AS k (run_id, task_idx, attempt)
                JOIN dispatches d USING (run_id, task_idx, attempt)
                WHERE d.claimed_by = $4
                """,
                [
                    PGArray.literal(held.map { Optional($0.runID) }),
                    PGArray.literal(held.map { Optional($0.taskIndex) }),
                    PGArray.literal(held.map { Optional($0.attempt) }), nodeID,
                ]
            ) { DispatchKey(runID: $0.string($1, 0) ?? "", taskIndex: $0.int($1, 1) ?? 0, attempt: $0.int($1, 2) ?? 0) }
        )
        let revoked = held.filter { !still.contains($0) }
        claims.withLock { claims in
            for key in revoked { claims.remove(key) }
        }
        return revoked
    }

    static func parameters(_ key: DispatchKey) -> [String?] {
        [key.runID, String(key.taskIndex), String(key.attempt)]
    }

    static func outcome(_ rows: PGResult, _ row: Int) -> DispatchOutcome {
        DispatchOutcome(
            key: DispatchKey(
                runID: rows.string(row, 0) ?? "", taskIndex: rows.int(row, 1) ?? 0, attempt: rows.int(row, 2) ?? 0),
            exitCode: rows.int(row, 3).map(Int32.init(truncatingIfNeeded:)),
            signal: rows.int(row, 4).map(Int32.init(truncatingIfNeeded:)),
            failure: rows.string(row, 5), lost: rows.string(row, 6))
    }
}
