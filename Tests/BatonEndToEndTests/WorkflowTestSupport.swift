import Foundation
import Testing

/// Helpers of the stored-workflow tests (SPEC §4 "Stored workflows, cron and webhooks"),
/// over the shared `TestServer` and its raw HTTP client.
extension TestServer {
    /// `PUT /v1/workflows/NAME` with `body` as JSON; the spec's `env.DIR` is set to the
    /// scratch directory so commands can say `"$DIR/file"`.
    func putWorkflow(_ name: String, _ body: [String: Any]) async throws -> HTTPResponse {
        var body = body
        if var spec = body["spec"] as? [String: Any] {
            var env = spec["env"] as? [String: String] ?? [:]
            env["DIR"] = env["DIR"] ?? scratch.directory.path
            spec["env"] = env
            body["spec"] = spec
        }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try await client.request("PUT", "/v1/workflows/\(name)", body: data, contentType: "application/json")
    }

    /// `PUT` that must answer `201` or `200`; returns the Workflow.
    @discardableResult
    func storeWorkflow(_ name: String, _ body: [String: Any]) async throws -> [String: Any] {
        let response = try await putWorkflow(name, body)
        guard response.status == 201 || response.status == 200 else {
            throw E2EError("PUT \(name) answered \(response)")
        }
        return try response.json()
    }

    /// `GET /v1/workflows/NAME`, which must answer `200`.
    func workflow(_ name: String) async throws -> [String: Any] {
        let response = try await client.get("/v1/workflows/\(name)")
        guard response.status == 200 else { throw E2EError("GET workflow \(name) answered \(response)") }
        return try response.json()
    }

    /// The RunSummaries of workflow `name`, newest first.
    func workflowRuns(_ name: String) async throws -> [[String: Any]] {
        let response = try await client.get("/v1/runs?workflow=\(name)&limit=1000")
        guard response.status == 200 else { throw E2EError("GET runs of \(name) answered \(response)") }
        return try response.json()["runs"] as? [[String: Any]] ?? []
    }

    /// The `scheduled_at` instants of the cron runs of workflow `name`, oldest first.
    func cronInstants(_ name: String) async throws -> [Date] {
        try await workflowRuns(name).compactMap { run -> Date? in
            guard let trigger = run["trigger"] as? [String: Any], trigger["type"] as? String == "cron" else {
                return nil
            }
            return parseTimestamp(trigger["scheduled_at"])
        }.sorted()
    }

    /// Polls until workflow `name` has at least `count` cron runs; returns their instants.
    @discardableResult
    func waitForCronRuns(_ name: String, count: Int, within limit: Duration = .seconds(20)) async throws -> [Date] {
        let deadline = ContinuousClock.now + limit
        while true {
            let instants = try await cronInstants(name)
            if instants.count >= count { return instants }
            if ContinuousClock.now >= deadline {
                throw E2EError("\(instants.count) cron runs of \(name) after \(limit), expected \(count)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A minimal valid spec: one task running `command`.
func oneTaskSpec(_ command: String, name: String = "job") -> [String: Any] {
    ["name": name, "tasks": [["name": "t", "command": command]]]
}

/// Whether `date` is on a whole second.
func isWholeSecond(_ date: Date) -> Bool {
    let seconds = date.timeIntervalSince1970
    return abs(seconds - seconds.rounded()) < 0.0005
}
