import Foundation
import Testing

/// `GET /v1/runs/{id}/tasks/{task}/log`: content, offsets, attempts, tailing headers, and
/// task names that need URL encoding.
@Suite struct ServerLogTests {
    @Test func tailsARunningTaskWithSizeCompleteAndOffset() async throws {
        try await withTestServer { server in
            let name = "a/b c"
            let path = "a%2Fb%20c"
            let created = try await server.submit([
                "tasks": [
                    [
                        "name": name,
                        "command": "printf 'first\\n'; touch \"$DIR/printed\"; " + waitForFileCommand("go")
                            + "; printf 'second\\n' >&2",
                    ]
                ]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForFile("printed")
            var running = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log")
            // `printed` is written after `first`; the bytes are in the file by then.
            #expect(running.status == 200, "\(running)")
            #expect(running.mediaType == "text/plain")
            #expect(running.text == "first\n")
            #expect(running.header("X-Log-Size") == "6")
            #expect(running.header("X-Log-Complete") == "false")
            running = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log?offset=6")
            #expect(running.status == 200)
            #expect(running.body.isEmpty)
            #expect(running.header("X-Log-Size") == "6")
            #expect(running.header("X-Log-Complete") == "false")

            try server.touch("go")
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let whole = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log")
            #expect(whole.text == "first\nsecond\n", "stdout and stderr in one log: \(whole)")
            #expect(whole.header("X-Log-Size") == "13")
            #expect(whole.header("X-Log-Complete") == "true")
            let tail = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log?offset=6")
            #expect(tail.text == "second\n")
            #expect(tail.header("X-Log-Size") == "13")
            #expect(tail.header("X-Log-Complete") == "true")
            let past = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log?offset=1000")
            #expect(past.status == 200, "\(past)")
            #expect(past.body.isEmpty)
            // A lower-case escape is the same name.
            let lower = try await server.client.get("/v1/runs/\(id)/tasks/a%2fb%20c/log")
            #expect(lower.text == "first\nsecond\n", "\(lower)")

            expectProblem(try await server.client.get("/v1/runs/\(id)/tasks/nope/log"), 404)
            expectProblem(try await server.client.get("/v1/runs/\(id)/tasks/a%2Fb/log"), 404)
            for offset in ["-1", "x", "1.5", "%20"] {
                let bad = try await server.client.get("/v1/runs/\(id)/tasks/\(path)/log?offset=\(offset)")
                let problem = expectProblem(bad, 400)
                #expect(problemPaths(problem).contains("offset"), "offset=\(offset): \(problem)")
            }
        }
    }

    @Test func attemptSelectsTheLogOfEachRetry() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    [
                        "name": "flaky", "retries": 2,
                        "command": "echo \"attempt $BATON_ATTEMPT\"; [ \"$BATON_ATTEMPT\" -ge 3 ]",
                    ]
                ]
            ])
            let id = try #require(created["id"] as? String)
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(task(done, "flaky")?["attempt"] as? Int == 3)
            for attempt in 1...3 {
                let log = try await server.client.get("/v1/runs/\(id)/tasks/flaky/log?attempt=\(attempt)")
                #expect(log.status == 200)
                #expect(log.text == "attempt \(attempt)\n", "\(log)")
                #expect(log.header("X-Log-Complete") == "true")
                #expect(log.header("X-Log-Size") == "10")
            }
            let latest = try await server.client.get("/v1/runs/\(id)/tasks/flaky/log")
            #expect(latest.text == "attempt 3\n")
            let offset = try await server.client.get("/v1/runs/\(id)/tasks/flaky/log?attempt=1&offset=8")
            #expect(offset.text == "1\n")
            for attempt in ["0", "x", "-2"] {
                expectProblem(try await server.client.get("/v1/runs/\(id)/tasks/flaky/log?attempt=\(attempt)"), 400)
            }
            let missing = try await server.client.get("/v1/runs/\(id)/tasks/flaky/log?attempt=4")
            #expect((400..<500).contains(missing.status), "\(missing)")
            #expect(missing.mediaType == "application/problem+json")
        }
    }

    @Test func pendingTaskHasAnEmptyIncompleteLog() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    ["name": "gate", "command": waitForFileCommand("go")],
                    ["name": "later", "command": "echo later", "depends_on": ["gate"]],
                ]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "gate", status: "running")
            let pending = try await server.client.get("/v1/runs/\(id)/tasks/later/log")
            #expect(pending.status == 200, "\(pending)")
            #expect(pending.body.isEmpty)
            #expect(pending.header("X-Log-Size") == "0")
            #expect(pending.header("X-Log-Complete") == "false")
            try server.touch("go")
            try await server.waitForRun(id)
            let later = try await server.client.get("/v1/runs/\(id)/tasks/later/log")
            #expect(later.text == "later\n")
            #expect(later.header("X-Log-Complete") == "true")
        }
    }

    @Test func taskNamesWithUnicodeAndReservedCharactersArePercentDecoded() async throws {
        let names = ["tâche ✓ 100%", "q?x#y&z=1", "semi;colon+plus", "..", "back\\slash"]
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": names.enumerated().map { index, name in ["name": name, "command": "echo \(index)"] }
            ])
            let id = try #require(created["id"] as? String)
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            for (index, name) in names.enumerated() {
                let encoded = try #require(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
                let log = try await server.client.get("/v1/runs/\(id)/tasks/\(encoded)/log")
                #expect(log.status == 200, "\(name) as \(encoded): \(log)")
                #expect(log.text == "\(index)\n", "\(name): \(log)")
            }
        }
    }
}
