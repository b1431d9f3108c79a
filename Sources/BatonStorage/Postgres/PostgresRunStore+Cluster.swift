import BatonCore
import Foundation

// Cluster mode (issue 9). Each unfinished run has one owner node, which schedules it; a
// node proves it is alive by heartbeating its row in `nodes`. When a node's heartbeat is
// older than the lease (killed, frozen, cut off) or it stopped cleanly, another node takes
// all its unfinished runs in one transaction, bumping each run's `owner_generation`. Every
// write of an engine round names the generation it believes in (fencedApplySQL), so a node
// that comes back after losing its runs writes nothing over the new owner's results.
//
// Times in these statements are the database server's clock (`clock_timestamp()`), so the
// nodes' own clocks may disagree without breaking leases.
extension PostgresRunStore: ClusterStore {
    static let now = "extract(epoch from clock_timestamp())"
    static let channel = "baton_cluster"

    public func registerNode(_ node: ClusterNode) throws {
        labels.withLock { $0 = node.labels }
        try write {
            try pool.withConnection { connection in
                try connection.query(
                    """
                    INSERT INTO nodes (id, hostname, labels, slots, busy_slots, version, started_at, heartbeat_at, state)
                    VALUES ($1, $2, $3, $4, 0, $5, \(Self.now), \(Self.now), 'live')
                    ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, labels = excluded.labels,
                        slots = excluded.slots, busy_slots = 0, version = excluded.version,
                        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, state = 'live',
                        watchers = 0
                    """,
                    [node.id, node.hostname, Self.encodeLabels(node.labels), String(node.slots), node.version])
                // A restart within the lease: the attempts this node had claimed died with
                // its previous process. Their owners restart or fail them now.
                try connection.query(
                    """
                    WITH ended AS (
                        UPDATE dispatches SET finished_at = \(Self.now), lost = 'interrupted: node ' || $1 || ' restarted'
                        WHERE claimed_by = $1 AND finished_at IS NULL
                        RETURNING run_id
                    )
                    SELECT pg_notify($2, 'done:' || r.owner_node) FROM ended JOIN runs r ON r.id = ended.run_id
                    """, [node.id, Self.channel])
            }
        }
    }

    public func heartbeat(busySlots: Int, watchers: Int, leaseSeconds: Double) throws -> Bool {
        guard let nodeID else { return false }
        return try write {
            try pool.withConnection { connection in
                let rows = try connection.query(
                    """
                    WITH beat AS (
                        UPDATE nodes SET heartbeat_at = \(Self.now), busy_slots = $2, watchers = $3, state = 'live'
                        WHERE id = $1
                    )
                    SELECT count(*) FROM nodes
                    WHERE id <> $1 AND watchers > 0 AND state = 'live' AND heartbeat_at > \(Self.now) - $4
                    """,
                    [nodeID, String(busySlots), String(watchers), PGText.double(leaseSeconds)])
                return (rows.int(0, 0) ?? 0) > 0
            }
        }
    }

    public func markStopped() throws {
        guard let nodeID else { return }
        try pool.withConnection { connection in
            try connection.query("UPDATE nodes SET state = 'stopped', busy_slots = 0 WHERE id = $1", [nodeID])
            try connection.query("SELECT pg_notify($1, $2)", [Self.channel, "stopped:" + nodeID])
        }
    }

    public func adoptLostRuns(leaseSeconds: Double) throws -> [AdoptedRuns] {
        guard let nodeID else { return [] }
        let lease = PGText.double(leaseSeconds)
        // A run is up for adoption when its owner is unknown, stopped, or silent past the lease.
        let lost = """
            NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = runs.owner_node AND n.state <> 'stopped'
                AND n.heartbeat_at >= \(Self.now) - $2::float8)
            """
        let owners = try read(
            """
            SELECT DISTINCT COALESCE(owner_node, '') FROM runs
            WHERE status IN ('queued', 'running') AND owner_node IS DISTINCT FROM $1 AND \(lost)
            """, [nodeID, lease]
        ) { $0.string($1, 0) ?? "" }
        var adopted: [AdoptedRuns] = []
        for owner in owners {
            let runs = try write {
                try pool.transaction { connection -> [(RunRecord, Int64)] in
                    // One adopter per lost node: two nodes racing do not split its runs (a
                    // parent run and its child runs must stay together).
                    let locked = try connection.query(
                        "SELECT pg_try_advisory_xact_lock(hashtext('baton adopt ' || $1))", [owner])
                    guard locked.bool(0, 0) == true else { return [] }
                    let rows = try connection.query(
                        """
                        UPDATE runs SET owner_node = $1, owner_generation = owner_generation + 1
                        WHERE status IN ('queued', 'running') AND COALESCE(owner_node, '') = $3 AND \(lost)
                        RETURNING \(StoredRun.columns), owner_generation
                        """, [nodeID, lease, owner])
                    let runs = try (0..<rows.count).map {
                        (try rows.storedRun($0).record, Int64(rows.int($0, 13) ?? 0))
                    }
                    // In the same transaction: the lost owner's published attempts are
                    // withdrawn (the resume restarts or fails them), and the nodes running
                    // them are told at commit to stop them.
                    try connection.query(
                        """
                        WITH withdrawn AS (
                            DELETE FROM dispatches WHERE run_id = ANY($1::text[]) RETURNING claimed_by
                        )
                        SELECT pg_notify($2, 'stop:' || claimed_by) FROM withdrawn
                        WHERE claimed_by IS NOT NULL
                        """, [PGArray.literal(runs.map { Optional($0.0.id) }), Self.channel])
                    return runs
                }
            }
            guard !runs.isEmpty else { continue }
            owned.withLock { owned in
                for (run, generation) in runs { owned[run.id] = generation }
            }
            let ordered = runs.map(\.0)
            adopted.append(AdoptedRuns(lostNode: owner.isEmpty ? nil : owner, runs: ordered))
        }
        return adopted
    }

    public func lostRuns() throws -> [String] {
        guard let nodeID else { return [] }
        let mine = owned.withLock { $0 }
        guard !mine.isEmpty else { return [] }
        let ids = Array(mine.keys)
        let rows = try read(
            """
            SELECT r.id, r.status IN ('queued', 'running'), r.owner_node = $3 AND r.owner_generation = o.generation
            FROM unnest($1::text[], $2::int8[]) AS o (id, generation) JOIN runs r ON r.id = o.id
            """, [PGArray.literal(ids), PGArray.literal(ids.map { Int(mine[$0]!) }), nodeID]
        ) { ($0.string($1, 0) ?? "", $0.bool($1, 1) ?? false, $0.bool($1, 2) ?? false) }
        // Finished runs need no fencing any more. A run missing from the table is kept: its
        // insert may not be committed yet (a large run's tasks are still being written).
        let lost = rows.filter { !$0.2 }.map(\.0)
        let drop = Set(rows.filter { !($0.1 && $0.2) }.map(\.0))
        owned.withLock { owned in
            for id in drop { owned[id] = nil }
        }
        return lost
    }

    /// The fenced engine round (see fencedApplySQL): rows of runs this node no longer owns
    /// are not written, and `takeFencedRuns` names those runs. `attempts` are published
    /// in the same statement (fencedApplyPublishingSQL); returns the ones published.
    func applyFenced(
        _ batch: StoreBatch, node: String, publishing attempts: [DispatchedAttempt] = []
    ) throws -> Set<DispatchKey> {
        let runs = RunUpdateColumns(batch.runs)
        let tasks = TaskColumns(Self.lastOfEach(batch.tasks))
        let rows = AttemptColumns(Self.merged(batch.attempts), node: node)
        let touched = Set(batch.runs.map(\.id) + batch.tasks.map(\.runID) + batch.attempts.map(\.runID))
        // Only the batch's runs are looked up (a node may own thousands of runs).
        let believed = owned.withLock { owned in
            touched.union(attempts.map(\.runID)).compactMap { id in owned[id].map { (id, Int($0)) } }
        }
        var arguments =
            runs.parameters + tasks.parameters + rows.parameters + [
                PGArray.literal(believed.map { Optional($0.0) }),
                PGArray.literal(believed.map { Optional($0.1) }),
                node,
            ]
        if !attempts.isEmpty { arguments += try Self.publishArguments(attempts) }
        let (written, published) = try write {
            try pool.withConnection { connection in
                let result = try connection.query(
                    attempts.isEmpty ? Self.fencedApplySQL : Self.fencedApplyPublishingSQL, arguments)
                let written = Set((result.string(0, 1) ?? "").split(separator: ",").map(String.init))
                let published = Set(
                    (result.string(0, 2) ?? "").split(separator: ",").compactMap { item -> DispatchKey? in
                        let parts = item.split(separator: " ")
                        guard parts.count == 3, let task = Int(parts[1]), let attempt = Int(parts[2]) else {
                            return nil
                        }
                        return DispatchKey(runID: String(parts[0]), taskIndex: task, attempt: attempt)
                    })
                return (written, published)
            }
        }
        let fenced = touched.subtracting(written)
        if !fenced.isEmpty {
            owned.withLock { owned in
                for id in fenced { owned[id] = nil }
            }
            fencedRuns.withLock { $0 += fenced.sorted() }
        }
        return published
    }

    public func takeFencedRuns() -> [String] {
        fencedRuns.withLock { runs in
            defer { runs.removeAll() }
            return runs
        }
    }

    public func nodes(leaseSeconds: Double) throws -> [ClusterNode] {
        try read(
            """
            SELECT id, hostname, labels, slots, busy_slots, version, started_at, heartbeat_at, state,
                heartbeat_at < \(Self.now) - $1::float8, url
            FROM nodes ORDER BY id
            """, [PGText.double(leaseSeconds)]
        ) { rows, row in
            let stopped = rows.string(row, 8) == "stopped"
            return ClusterNode(
                id: rows.string(row, 0) ?? "", hostname: rows.string(row, 1) ?? "",
                labels: Self.decodeLabels(rows.string(row, 2) ?? "{}"), slots: rows.int(row, 3) ?? 0,
                busySlots: rows.int(row, 4) ?? 0, version: rows.string(row, 5) ?? "",
                startedAt: rows.date(row, 6) ?? Date(timeIntervalSince1970: 0),
                heartbeatAt: rows.date(row, 7) ?? Date(timeIntervalSince1970: 0),
                state: stopped ? .stopped : rows.bool(row, 9) == true ? .lost : .live, url: rows.string(row, 10))
        }
    }

    public func setNodeURL(_ url: String) throws {
        guard let nodeID else { return }
        try write {
            try pool.withConnection { try $0.query("UPDATE nodes SET url = $2 WHERE id = $1", [nodeID, url]) }
        }
    }

    public func remoteNodeURL(runID: String, taskIndex: Int, attempt: Int) throws -> (node: String, url: String?)? {
        guard let nodeID else { return nil }
        return try read(
            """
            SELECT a.node, n.url FROM attempts a LEFT JOIN nodes n ON n.id = a.node
            WHERE a.run_id = $1 AND a.task_idx = $2 AND a.attempt = $3 AND a.node IS DISTINCT FROM $4
                AND a.node IS NOT NULL
            """, [runID, String(taskIndex), String(attempt), nodeID]
        ) { ($0.string($1, 0) ?? "", $0.string($1, 1)) }.first
    }

    public func holdLease(_ name: String, seconds: Double) throws -> Bool {
        guard let nodeID else { return true }
        return try write {
            try pool.withConnection { connection in
                try connection.query(
                    """
                    INSERT INTO leases (name, owner, expires_at, generation) VALUES ($1, $2, \(Self.now) + $3::float8, 1)
                    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
                        generation = leases.generation + CASE WHEN leases.owner = excluded.owner THEN 0 ELSE 1 END
                    WHERE leases.owner = excluded.owner OR leases.expires_at < \(Self.now)
                    RETURNING generation
                    """, [name, nodeID, PGText.double(seconds)]
                ).count > 0
            }
        }
    }

    public func releaseLease(_ name: String) throws {
        guard let nodeID else { return }
        try pool.withConnection { connection in
            try connection.query("DELETE FROM leases WHERE name = $1 AND owner = $2", [name, nodeID])
        }
    }

    public func postCommand(_ command: RunCommand) throws -> Bool {
        guard let nodeID else { return false }
        return try write {
            try pool.transaction { connection in
                let rows = try connection.query(
                    """
                    WITH target AS (
                        SELECT id, owner_node FROM runs
                        WHERE id = $1 AND status IN ('queued', 'running') AND owner_node IS DISTINCT FROM $2
                    ), queued AS (
                        INSERT INTO run_commands (run_id, command, created_at)
                        SELECT id, $3, \(Self.now) FROM target RETURNING run_id
                    )
                    SELECT COALESCE(owner_node, '') FROM target
                    """, [command.runID, nodeID, command.kind.rawValue])
                guard let owner = rows.string(0, 0) else { return false }
                if !owner.isEmpty {
                    // Delivered at commit: the owner wakes and finds the command.
                    try connection.query("SELECT pg_notify($1, $2)", [Self.channel, "commands:" + owner])
                }
                return true
            }
        }
    }

    public func takeCommands() throws -> [RunCommand] {
        guard let nodeID else { return [] }
        return try write {
            try pool.withConnection { connection in
                let rows = try connection.query(
                    """
                    DELETE FROM run_commands c USING runs r
                    WHERE c.run_id = r.id AND r.owner_node = $1
                    RETURNING c.run_id, c.command
                    """, [nodeID])
                return (0..<rows.count).compactMap { row in
                    RunCommand.Kind(rawValue: rows.string(row, 1) ?? "").map {
                        RunCommand(runID: rows.string(row, 0) ?? "", kind: $0)
                    }
                }
            }
        }
    }

    public func announceWorkflowsChanged() throws {
        try pool.withConnection { try $0.query("SELECT pg_notify($1, 'workflows')", [Self.channel]) }
    }

    public func waitForWakeUp(timeout: Double) -> [String] {
        let connection = listener.withLock { listener -> PGConnection? in
            if listener == nil {
                listener = try? PGConnection(url: pool.url)
                if let fresh = listener, (try? fresh.execute("LISTEN \(Self.channel)")) == nil {
                    listener = nil
                }
            }
            return listener
        }
        guard let connection else {
            // The database is unreachable: wait as long as a wake-up would have, then retry.
            Thread.sleep(forTimeInterval: timeout)
            return []
        }
        do {
            let me = nodeID ?? ""
            return try connection.notifications(timeout: timeout).compactMap { payload in
                if payload == "commands:" + me { return "commands" }
                if payload == "workflows" { return "workflows" }
                if payload.hasPrefix("stopped:") { return "stopped" }
                if payload == "work" { return "work" }
                if payload == "done:" + me { return "done" }
                if payload == "stop:" + me { return "stops" }
                if payload.hasPrefix("watching:") { return payload == "watching:" + me ? nil : "watching" }
                return receiveRelayed(payload) ? "events" : nil
            }
        } catch {
            listener.withLock { $0 = nil }
            return []
        }
    }

    static func encodeLabels(_ labels: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(labels), as: UTF8.self)) ?? "{}"
    }

    static func decodeLabels(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }
}
