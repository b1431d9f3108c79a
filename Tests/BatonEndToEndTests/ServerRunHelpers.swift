import Foundation
import Testing

/// Run statuses after which nothing changes any more.
let terminalRunStatuses: Set<String> = ["succeeded", "failed", "timed_out", "cancelled"]

/// Task statuses after which nothing changes any more.
let terminalTaskStatuses: Set<String> = ["succeeded", "failed", "timed_out", "cancelled", "skipped"]

extension TestServer {
    /// Submits a native spec given as a JSON object (with `env.DIR` set to the scratch
    /// directory, so commands can say `"$DIR/file"`); the answer must be a `201`.
    @discardableResult
    func submit(_ spec: [String: Any]) async throws -> [String: Any] {
        var spec = spec
        var env = spec["env"] as? [String: String] ?? [:]
        env["DIR"] = env["DIR"] ?? scratch.directory.path
        spec["env"] = env
        let response = try await client.post("/v1/runs", json: spec)
        guard response.status == 201 else { throw E2EError("submit answered \(response)") }
        return try response.json()
    }

    /// `GET /v1/runs/{id}`, which must answer `200`.
    func run(_ id: String) async throws -> [String: Any] {
        let response = try await client.get("/v1/runs/\(id)")
        guard response.status == 200 else { throw E2EError("GET run \(id) answered \(response)") }
        return try response.json()
    }

    /// Polls the run until `condition` holds (default: it has ended); `limit` is a generous
    /// bound whose expiry fails the test.
    @discardableResult
    func waitForRun(
        _ id: String, within limit: Duration = .seconds(30),
        until condition: ([String: Any]) -> Bool = { terminalRunStatuses.contains($0["status"] as? String ?? "") }
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + limit
        while true {
            let run = try await run(id)
            if condition(run) { return run }
            if ContinuousClock.now >= deadline {
                throw E2EError("run \(id) not in the expected state after \(limit): \(run)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Polls until task `name` of run `id` has `status`.
    @discardableResult
    func waitForTask(_ id: String, _ name: String, status: String, within limit: Duration = .seconds(30))
        async throws -> [String: Any]
    {
        let run = try await waitForRun(id, within: limit) { run in
            task(run, name)?["status"] as? String == status
        }
        return try #require(task(run, name))
    }

    /// Waits until the file `name` of the scratch directory exists, watching the server: if
    /// it exits first, the wait fails at once with its stderr.
    @discardableResult
    func waitForFile(_ name: String, within limit: Duration = .seconds(30)) async throws -> String {
        let process = try process
        try await waitUntil("file \(name)", within: limit) {
            if FileManager.default.fileExists(atPath: scratch.path(name)) { return true }
            if !process.isRunning { throw E2EError("baton serve exited:\n\(process.stderr.suffix(4000))") }
            return false
        }
        return scratch.read(name) ?? ""
    }

    /// Creates the file `name` in the scratch directory (the tasks wait on such files).
    func touch(_ name: String) throws {
        try scratch.write(name, "")
    }
}

/// Task `name` of a Run document.
func task(_ run: [String: Any], _ name: String) -> [String: Any]? {
    (run["tasks"] as? [[String: Any]])?.first { $0["name"] as? String == name }
}

/// Task names and statuses of a Run document, for messages and comparisons.
func taskStatuses(_ run: [String: Any]) -> [String: String] {
    var result: [String: String] = [:]
    for task in run["tasks"] as? [[String: Any]] ?? [] {
        result[task["name"] as? String ?? "?"] = task["status"] as? String ?? "?"
    }
    return result
}

/// A shell loop that blocks until the scratch file `name` exists (polling every 20 ms).
func waitForFileCommand(_ name: String) -> String {
    "while [ ! -e \"$DIR/\(name)\" ]; do sleep 0.02; done"
}

/// RFC 3339 UTC with milliseconds: `2026-11-23T15:12:22.962Z`.
func isRFC3339Milliseconds(_ value: Any?) -> Bool {
    guard let text = value as? String else { return false }
    guard (try? Regex(#"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"#).wholeMatch(in: text)) != nil else {
        return false
    }
    return parseTimestamp(text) != nil
}

/// The instant of an RFC 3339 timestamp with fractional seconds.
func parseTimestamp(_ value: Any?) -> Date? {
    guard let text = value as? String else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}

/// Checks a `application/problem+json` answer with `status`, and returns its body.
@discardableResult
func expectProblem(
    _ response: HTTPResponse, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation
) -> [String: Any] {
    #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
    #expect(
        response.mediaType == "application/problem+json", "Content-Type of \(response)",
        sourceLocation: sourceLocation)
    guard let problem = try? response.json() else {
        Issue.record("not a JSON problem: \(response)", sourceLocation: sourceLocation)
        return [:]
    }
    #expect(problem["status"] as? Int == status, "\(problem)", sourceLocation: sourceLocation)
    #expect(problem["title"] is String, "\(problem)", sourceLocation: sourceLocation)
    #expect(problem["type"] is String, "\(problem)", sourceLocation: sourceLocation)
    #expect(problem["detail"] is String, "\(problem)", sourceLocation: sourceLocation)
    return problem
}

/// The `errors[].path` of a problem.
func problemPaths(_ problem: [String: Any]) -> [String] {
    (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
}

/// Checks the Run shape of SPEC §4: every field present, with the right types, and
/// timestamps in RFC 3339 UTC with milliseconds.
func expectRunShape(
    _ run: [String: Any], withTasks: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
) {
    let keys = ["id", "name", "workflow", "status", "trigger", "created_at", "started_at", "finished_at", "counts"]
    for key in keys + (withTasks ? ["tasks"] : []) {
        #expect(run.keys.contains(key), "Run lacks \(key): \(run)", sourceLocation: sourceLocation)
    }
    if !withTasks {
        #expect(run["tasks"] == nil, "a RunSummary has no tasks", sourceLocation: sourceLocation)
    }
    #expect(run["id"] is String, sourceLocation: sourceLocation)
    #expect(run["name"] is String, sourceLocation: sourceLocation)
    #expect(run["workflow"] is NSNull || run["workflow"] is String, sourceLocation: sourceLocation)
    let statuses: Set<String> = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]
    #expect(
        statuses.contains(run["status"] as? String ?? ""), "\(run["status"] ?? "nil")", sourceLocation: sourceLocation)
    #expect((run["trigger"] as? [String: Any])?["type"] is String, sourceLocation: sourceLocation)
    #expect(
        isRFC3339Milliseconds(run["created_at"]), "created_at \(run["created_at"] ?? "nil")",
        sourceLocation: sourceLocation)
    for key in ["started_at", "finished_at"] {
        #expect(
            run[key] is NSNull || isRFC3339Milliseconds(run[key]), "\(key) \(run[key] ?? "nil")",
            sourceLocation: sourceLocation)
    }
    let counts = run["counts"] as? [String: Int] ?? [:]
    #expect(
        Set(counts.keys) == ["pending", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped"],
        "counts \(counts)", sourceLocation: sourceLocation)
    guard withTasks else { return }
    let tasks = run["tasks"] as? [[String: Any]] ?? []
    #expect(
        counts.values.reduce(0, +) == tasks.count, "counts \(counts) vs \(tasks.count) tasks",
        sourceLocation: sourceLocation)
    let taskKeys = [
        "name", "group", "status", "attempt", "exit_code", "signal", "reason", "started_at", "finished_at",
        "duration_seconds",
    ]
    for task in tasks {
        for key in taskKeys {
            #expect(task.keys.contains(key), "task lacks \(key): \(task)", sourceLocation: sourceLocation)
        }
        #expect(task["name"] is String, sourceLocation: sourceLocation)
        #expect(task["attempt"] is Int, "attempt \(task)", sourceLocation: sourceLocation)
        for key in ["started_at", "finished_at"] {
            #expect(
                task[key] is NSNull || isRFC3339Milliseconds(task[key]), "\(key) \(task[key] ?? "nil")",
                sourceLocation: sourceLocation)
        }
        let status = task["status"] as? String ?? ""
        if terminalTaskStatuses.contains(status) && status != "skipped" && !(task["started_at"] is NSNull) {
            #expect(
                task["duration_seconds"] is NSNumber, "duration of an ended task: \(task)",
                sourceLocation: sourceLocation)
        }
        if !terminalTaskStatuses.contains(status) {
            #expect(
                task["duration_seconds"] is NSNull, "duration of a live task: \(task)", sourceLocation: sourceLocation)
        }
    }
}
