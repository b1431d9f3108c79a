import Foundation
import Testing

/// `POST /v1/runs/{id}/retry`: a new run that keeps the successes and re-executes the rest.
@Suite struct ServerRetryTests {
    @Test func retryReexecutesWhatDidNotSucceedAndKeepsTheRest() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "name": "retry-me", "mode": "waitall",
                "tasks": [
                    ["name": "ok", "command": "echo ran >> \"$DIR/ok.count\""],
                    ["name": "flaky", "command": "echo ran >> \"$DIR/flaky.count\"; [ -e \"$DIR/fixed\" ]"],
                    ["name": "after", "command": "echo ran >> \"$DIR/after.count\"", "depends_on": ["flaky"]],
                ],
            ])
            let id = try #require(created["id"] as? String)
            let failed = try await server.waitForRun(id)
            #expect(failed["status"] as? String == "failed", "\(failed)")
            #expect(taskStatuses(failed) == ["ok": "succeeded", "flaky": "failed", "after": "skipped"])

            try server.touch("fixed")
            let response = try await server.client.post("/v1/runs/\(id)/retry")
            #expect(response.status == 201, "\(response)")
            let retry = try response.json()
            expectRunShape(retry)
            let retryID = try #require(retry["id"] as? String)
            #expect(retryID != id)
            #expect(response.header("Location") == "/v1/runs/\(retryID)")
            let trigger = retry["trigger"] as? [String: Any] ?? [:]
            #expect(trigger["type"] as? String == "retry", "\(trigger)")
            #expect(trigger["original_run_id"] as? String == id, "\(trigger)")
            #expect(retry["name"] as? String == "retry-me")

            let done = try await server.waitForRun(retryID)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(taskStatuses(done) == ["ok": "succeeded", "flaky": "succeeded", "after": "succeeded"])
            #expect(server.scratch.lines("ok.count").count == 1, "a succeeded task is kept, not run again")
            #expect(server.scratch.lines("flaky.count").count == 2)
            #expect(server.scratch.lines("after.count").count == 1)
            let original = try await server.run(id)
            #expect(original["status"] as? String == "failed", "the original run is unchanged")

            expectProblem(try await server.client.post("/v1/runs/01zzzzzzzzzzzzzzzzzzzzzzzz/retry"), 404)
            let running = try await server.submit(["tasks": [["name": "hold", "command": waitForFileCommand("go")]]])
            let runningID = try #require(running["id"] as? String)
            expectProblem(try await server.client.post("/v1/runs/\(runningID)/retry"), 409)
            try server.touch("go")
            try await server.waitForRun(runningID)
        }
    }
}
