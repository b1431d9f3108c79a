import Foundation
import Testing

/// `?wait=` long-polls (Consul-style blocking queries) for curl and CI: answered as soon as
/// something changes, `304` or an empty log at the deadline.
@Suite struct ServerLongPollTests {
    @Test func aRunLongPollAnswersWhenTheRunChanges() async throws {
        try await withTestServer { server in
            let created = try await server.submit(["tasks": [["name": "a", "command": waitForFileCommand("go")]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "a", status: "running")
            let current = try await server.client.get("/v1/runs/\(id)")
            let etag = try #require(current.header("ETag"))
            let client = try server.client
            async let answer = client.get("/v1/runs/\(id)?wait=30s", headers: [("If-None-Match", etag)])
            // The poll is waiting (no answer yet) until the task is released.
            try await Task.sleep(for: .milliseconds(300))
            let released = ContinuousClock.now
            try server.touch("go")
            let changed = try await answer
            #expect(changed.status == 200, "\(changed)")
            #expect(changed.header("ETag") != etag)
            #expect(ContinuousClock.now - released < .seconds(10), "answered on the change, not at the deadline")
            let document = try changed.json()
            #expect(document["id"] as? String == id)
        }
    }

    @Test func anUnchangedRunAnswers304AtTheDeadline() async throws {
        try await withTestServer { server in
            let created = try await server.submit(["tasks": [["name": "a", "command": "true"]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForRun(id)
            let etag = try #require(try await server.client.get("/v1/runs/\(id)").header("ETag"))
            let (answer, elapsed) = try await server.client.timedExchange(
                server.client.requestBytes("GET", "/v1/runs/\(id)?wait=1s", headers: [("If-None-Match", etag)]))
            #expect(answer.status == 304, "\(answer)")
            #expect(answer.header("ETag") == etag)
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5), "\(elapsed)")
            // A stale tag answers at once.
            let stale = try await server.client.get("/v1/runs/\(id)?wait=30s", headers: [("If-None-Match", "\"old\"")])
            #expect(stale.status == 200)
        }
    }

    @Test func badWaitsAreRefusedByName() async throws {
        try await withTestServer { server in
            let created = try await server.submit(["tasks": [["name": "a", "command": "true"]]])
            let id = try #require(created["id"] as? String)
            for bad in ["forever", "61s", "-1", "2h"] {
                let answer = try await server.client.get("/v1/runs/\(id)?wait=\(bad)")
                let problem = expectProblem(answer, 400)
                #expect(problemPaths(problem) == ["wait"], "\(bad): \(problem)")
            }
        }
    }

    @Test func aLogLongPollAnswersWithTheNewBytes() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    ["name": "a", "command": "printf 'one\\n'; " + waitForFileCommand("go") + "; printf 'two\\n'"]
                ]
            ])
            let id = try #require(created["id"] as? String)
            try await waitUntil("the first line", within: .seconds(20)) {
                let path = server.scratch.dataDirectory + "/logs"
                return (try? FileManager.default.subpathsOfDirectory(atPath: path))?.contains { $0.hasSuffix(".log") }
                    == true
            }
            let client = try server.client
            async let answer = client.get("/v1/runs/\(id)/tasks/a/log?offset=4&wait=30s")
            try await Task.sleep(for: .milliseconds(300))
            try server.touch("go")
            let more = try await answer
            #expect(more.status == 200, "\(more)")
            #expect(String(decoding: more.body, as: UTF8.self) == "two\n")
            // At the end of a complete log it answers at once, empty.
            try await server.waitForRun(id)
            let started = ContinuousClock.now
            let done = try await server.client.get("/v1/runs/\(id)/tasks/a/log?offset=8&wait=30s")
            #expect(done.body.isEmpty && done.header("X-Log-Complete") == "true")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}
