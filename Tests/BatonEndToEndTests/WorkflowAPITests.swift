import Foundation
import Testing

/// `/v1/workflows` against the real `baton serve` (SPEC §4 "Stored workflows"): create,
/// replace, list, read, delete, manual runs, pause and resume, and the errors.
@Suite(.timeLimit(.minutes(2))) struct WorkflowAPITests {
    static let secret = "do-not-echo-7f3a"

    @Test func putCreatesThenReplacesAndTheSecretIsNeverEchoed() async throws {
        try await withTestServer { server in
            let body: [String: Any] = [
                "spec": oneTaskSpec("true", name: "nightly build"),
                "schedule": ["cron": "0 3 * * *", "timezone": "Europe/Paris"],
                "webhook": ["secret": Self.secret],
            ]
            let created = try await server.putWorkflow("nightly", body)
            #expect(created.status == 201, "\(created)")
            #expect(created.header("Location") == "/v1/workflows/nightly")
            #expect(!created.text.contains(Self.secret))
            let workflow = try created.json()
            #expect(workflow["name"] as? String == "nightly")
            #expect(workflow["state"] as? String == "active")
            #expect(workflow["webhook"] as? [String: Bool] == ["enabled": true])
            #expect(
                workflow["last_run"] is NSNull && workflow["last_status"] is NSNull
                    && workflow["last_fire_at"] is NSNull)
            let schedule = try #require(workflow["schedule"] as? [String: Any])
            #expect(schedule["cron"] as? String == "0 3 * * *")
            #expect(schedule["timezone"] as? String == "Europe/Paris")
            #expect(schedule["overlap"] as? String == "skip")
            #expect(schedule["missed"] as? String == "run_once")
            #expect(schedule["enabled"] as? Bool == true)
            let spec = try #require(workflow["spec"] as? [String: Any])
            #expect(spec["name"] as? String == "nightly build")
            #expect(
                (spec["tasks"] as? [[String: Any]])?.first?["timeout_seconds"] as? Int == 300,
                "canonical, defaults explicit")
            let nextRuns = try #require(workflow["next_runs"] as? [String])
            #expect(nextRuns.count == 5)
            #expect(
                nextRuns.allSatisfy { $0.contains("T03:00:00+01:00") || $0.contains("T03:00:00+02:00") }, "\(nextRuns)")
            #expect(parseTimestamp(workflow["next_fire_at"]) == zonedDate(nextRuns.first))
            #expect(isRFC3339Milliseconds(workflow["created_at"]) && isRFC3339Milliseconds(workflow["updated_at"]))

            try await Task.sleep(for: .milliseconds(20))
            let replaced = try await server.putWorkflow("nightly", ["spec": oneTaskSpec("echo v2")])
            #expect(replaced.status == 200, "\(replaced)")
            #expect(replaced.header("Location") == nil)
            let second = try replaced.json()
            #expect(second["created_at"] as? String == workflow["created_at"] as? String)
            #expect(second["updated_at"] as? String != workflow["updated_at"] as? String)
            #expect(second["schedule"] is NSNull && second["webhook"] is NSNull)
            #expect(second["next_runs"] as? [String] == [])

            let fetched = try await server.client.get("/v1/workflows/nightly")
            #expect(fetched.status == 200 && fetched.mediaType == "application/json")
            #expect((try fetched.json()["spec"] as? [String: Any])?["name"] as? String == "job")
        }
    }

    @Test func listIsSortedByNameAndDeleteRemoves() async throws {
        try await withTestServer { server in
            for name in ["b-flow", "a.flow", "c_flow"] {
                try await server.storeWorkflow(name, ["spec": oneTaskSpec("true"), "webhook": ["secret": Self.secret]])
            }
            let list = try await server.client.get("/v1/workflows")
            #expect(list.status == 200)
            #expect(!list.text.contains(Self.secret))
            let names = (try list.json()["workflows"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["a.flow", "b-flow", "c_flow"])

            let deleted = try await server.client.request("DELETE", "/v1/workflows/b-flow")
            #expect(deleted.status == 204, "\(deleted)")
            expectProblem(try await server.client.get("/v1/workflows/b-flow"), 404)
            expectProblem(try await server.client.request("DELETE", "/v1/workflows/b-flow"), 404)
            let after = try await server.client.get("/v1/workflows")
            #expect((try after.json()["workflows"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func invalidBodiesNamesAndMediaTypes() async throws {
        try await withTestServer { server in
            let invalid = try await server.putWorkflow(
                "bad",
                [
                    "spec": ["tasks": [["name": "a", "command": ""]]],
                    "schedule": ["cron": "0 75 * * *", "timezone": "Nowhere/City", "overlap": "never"],
                    "hook": [:],
                ])
            let problem = expectProblem(invalid, 400)
            #expect(
                Set(problemPaths(problem))
                    == ["spec.tasks[0].command", "schedule.cron", "schedule.timezone", "schedule.overlap", "hook"],
                "\(problem)")
            let messages = (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            #expect(messages.contains { $0.hasPrefix("position 3:") }, "\(messages)")
            expectProblem(try await server.client.get("/v1/workflows/bad"), 404)

            let yaml = try await server.client.request(
                "PUT", "/v1/workflows/x", body: Data("spec: {}".utf8), contentType: "application/yaml")
            expectProblem(yaml, 415)
            let badName = try await server.client.request(
                "PUT", "/v1/workflows/has%20space",
                body: Data(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}}"#.utf8),
                contentType: "application/json")
            #expect(problemPaths(expectProblem(badName, 400)) == ["name"])
            let tooLong = String(repeating: "x", count: 101)
            expectProblem(try await server.putWorkflow(tooLong, ["spec": oneTaskSpec("true")]), 400)
            #expect(
                try await server.putWorkflow(String(repeating: "x", count: 100), ["spec": oneTaskSpec("true")]).status
                    == 201)
            expectProblem(try await server.client.post("/v1/workflows/missing/runs"), 404)
            expectProblem(try await server.client.post("/v1/workflows/missing/pause"), 404)
        }
    }

    @Test func manualRunMergesEnvAndBecomesTheLastRun() async throws {
        try await withTestServer { server in
            let spec: [String: Any] = [
                "name": "greeter", "env": ["WHO": "spec", "KEEP": "kept"],
                "tasks": [["name": "t", "command": "echo \"$WHO $KEEP\" > \"$DIR/manual.out\""]],
            ]
            try await server.storeWorkflow("greet", ["spec": spec])
            let response = try await server.client.post("/v1/workflows/greet/runs", json: ["env": ["WHO": "manual"]])
            #expect(response.status == 201, "\(response)")
            let run = try response.json()
            expectRunShape(run)
            let id = try #require(run["id"] as? String)
            #expect(response.header("Location") == "/v1/runs/\(id)")
            #expect(run["workflow"] as? String == "greet")
            #expect(run["trigger"] as? [String: String] == ["type": "manual"])
            let finished = try await server.waitForRun(id)
            #expect(finished["status"] as? String == "succeeded")
            #expect(server.scratch.read("manual.out") == "manual kept\n")

            let workflow = try await server.workflow("greet")
            #expect((workflow["last_run"] as? [String: Any])?["id"] as? String == id)
            #expect((workflow["last_run"] as? [String: Any])?["tasks"] == nil, "a RunSummary")
            #expect(workflow["last_status"] as? String == "succeeded")
            let listed = try await server.workflowRuns("greet")
            #expect(listed.compactMap { $0["id"] as? String } == [id])

            // No body at all is a run with the spec's env.
            let plain = try await server.client.post("/v1/workflows/greet/runs")
            #expect(plain.status == 201, "\(plain)")
            let bad = try await server.client.post(
                "/v1/workflows/greet/runs", json: ["env": ["WHO": 1], "extra": true])
            #expect(Set(problemPaths(expectProblem(bad, 400))) == ["env.WHO", "extra"])
        }
    }

    @Test func pauseAndResumeToggleTheStateAndTheNextRuns() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow("ticking", ["spec": oneTaskSpec("true"), "schedule": ["cron": "0 0 1 1 *"]])
            let paused = try await server.client.post("/v1/workflows/ticking/pause")
            #expect(paused.status == 200, "\(paused)")
            #expect(try paused.json()["state"] as? String == "paused")
            #expect(try paused.json()["next_runs"] as? [String] == [])
            // A replace keeps the pause.
            let replaced = try await server.storeWorkflow(
                "ticking", ["spec": oneTaskSpec("true"), "schedule": ["cron": "0 0 1 1 *"]])
            #expect(replaced["state"] as? String == "paused")
            let resumed = try await server.client.post("/v1/workflows/ticking/resume")
            #expect(resumed.status == 200)
            #expect(try resumed.json()["state"] as? String == "active")
            #expect((try resumed.json()["next_runs"] as? [String])?.count == 5)
        }
    }

    @Test func deletingAWorkflowLetsItsRunningRunFinish() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow(
                "longjob", ["spec": oneTaskSpec("touch \"$DIR/started\"; " + waitForFileCommand("go"))])
            let run = try (try await server.client.post("/v1/workflows/longjob/runs")).json()
            let id = try #require(run["id"] as? String)
            try await server.waitForFile("started")
            #expect(try await server.client.request("DELETE", "/v1/workflows/longjob").status == 204)
            try server.touch("go")
            let finished = try await server.waitForRun(id)
            #expect(finished["status"] as? String == "succeeded")
            #expect(finished["workflow"] as? String == "longjob", "the run keeps its workflow's name")
        }
    }
}

/// The instant of an RFC 3339 text with an offset and no fraction (`next_runs`).
func zonedDate(_ text: String?) -> Date? {
    guard let text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}
