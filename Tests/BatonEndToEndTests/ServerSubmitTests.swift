import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `POST /v1/runs` in every accepted format, the Run document, and runs polled to their end.
@Suite struct ServerSubmitTests {
    @Test func jsonSubmitAnswers201WithLocationAndTheRunShape() async throws {
        try await withTestServer { server in
            let response = try await server.client.post(
                "/v1/runs",
                json: [
                    "name": "json-submit",
                    "env": ["DIR": server.scratch.directory.path],
                    "groups": [["name": "stage"]],
                    "tasks": [
                        // Held until the 201 has been checked, so the run cannot be over yet.
                        ["name": "first", "command": waitForFileCommand("go") + "; echo one"],
                        ["name": "second", "command": ["/bin/echo", "two"], "depends_on": ["first"]],
                        ["name": "grouped", "command": "true", "group": "stage"],
                    ],
                ] as [String: Any])
            #expect(response.status == 201, "\(response)")
            #expect(response.mediaType == "application/json")
            let created = try response.json()
            let id = try #require(created["id"] as? String)
            #expect(response.header("Location") == "/v1/runs/\(id)")
            expectRunShape(created)
            #expect(created["name"] as? String == "json-submit")
            #expect(created["workflow"] is NSNull)
            #expect((created["trigger"] as? [String: Any])?["type"] as? String == "api")
            #expect(["queued", "running"].contains(created["status"] as? String ?? ""), "\(created)")
            #expect(
                (created["tasks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["first", "second", "grouped"])
            #expect(task(created, "grouped")?["group"] as? String == "stage")
            #expect(task(created, "first")?["group"] is NSNull)

            let location = try #require(response.header("Location"))
            let fetched = try await server.client.get(location)
            #expect(fetched.status == 200)
            #expect(try fetched.json()["id"] as? String == id)

            try server.touch("go")
            let done = try await server.waitForRun(id)
            expectRunShape(done)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect((done["counts"] as? [String: Int])?["succeeded"] == 3)
            let created_at = try #require(parseTimestamp(done["created_at"]))
            let started = try #require(parseTimestamp(done["started_at"]))
            let finished = try #require(parseTimestamp(done["finished_at"]))
            #expect(created_at <= started && started <= finished)
            for name in ["first", "second", "grouped"] {
                let entry = try #require(task(done, name))
                #expect(entry["status"] as? String == "succeeded")
                #expect(entry["attempt"] as? Int == 1)
                #expect(entry["exit_code"] as? Int == 0)
                #expect(entry["signal"] is NSNull)
                #expect(entry["reason"] is NSNull)
                #expect((entry["duration_seconds"] as? Double ?? -1) >= 0)
            }
            let second = try await server.client.get("/v1/runs/\(id)/tasks/second/log")
            #expect(second.text == "two\n")
        }
    }

    @Test(arguments: ["application/yaml", "text/yaml", "application/yaml; charset=utf-8"])
    func yamlSubmitRunsToTheExpectedStatuses(contentType: String) async throws {
        try await withTestServer { server in
            let yaml = """
                name: yaml-submit
                mode: waitall
                tasks:
                  - name: ok
                    command: echo fine
                  - name: bad
                    command: exit 3
                  - name: after bad
                    command: "true"
                    depends_on: [bad]
                  - name: cleanup
                    command: "true"
                    trigger: all_done
                    depends_on: [bad]
                """
            let response = try await server.client.post("/v1/runs", body: Data(yaml.utf8), contentType: contentType)
            #expect(response.status == 201, "\(response)")
            let created = try response.json()
            expectRunShape(created)
            let id = try #require(created["id"] as? String)
            #expect(response.header("Location") == "/v1/runs/\(id)")
            let done = try await server.waitForRun(id)
            expectRunShape(done)
            #expect(done["name"] as? String == "yaml-submit")
            #expect(done["status"] as? String == "failed", "\(done)")
            #expect(
                taskStatuses(done) == [
                    "ok": "succeeded", "bad": "failed", "after bad": "skipped", "cleanup": "succeeded",
                ])
            #expect(task(done, "bad")?["exit_code"] as? Int == 3)
            #expect(task(done, "after bad")?["reason"] as? String == "upstream failed: bad")
            #expect(task(done, "after bad")?["attempt"] as? Int == 0)
            let counts = done["counts"] as? [String: Int] ?? [:]
            #expect(counts["succeeded"] == 2 && counts["failed"] == 1 && counts["skipped"] == 1, "\(counts)")
        }
    }

    /// examples/seed-000/scheduler.yaml posted verbatim, the server started in its folder
    /// (the commands name scripts relative to the working directory).
    @Test func seedFormatIsAcceptedVerbatim() async throws {
        let folder = TestSupport.examples.appendingPathComponent("seed-000")
        let yaml = try Data(contentsOf: folder.appendingPathComponent("scheduler.yaml"))
        try await withTestServer(ServerOptions(directory: folder.path)) { server in
            let response = try await server.client.post("/v1/runs", body: yaml, contentType: "application/yaml")
            #expect(response.status == 201, "\(response)")
            let created = try response.json()
            expectRunShape(created)
            let id = try #require(created["id"] as? String)
            #expect(task(created, "Script One")?["group"] as? String == "GroupOne")
            #expect(task(created, "Script Two")?["group"] as? String == "GroupTwo")
            let done = try await server.waitForRun(id)
            expectRunShape(done)
            // pwsh may be missing; Script Two's group is `runalways`, so it runs either way.
            #expect(task(done, "Script Two")?["status"] as? String == "succeeded", "\(done)")
            let one = task(done, "Script One")?["status"] as? String
            #expect(done["status"] as? String == (one == "succeeded" ? "succeeded" : "failed"), "\(done)")
            let log = try await server.client.get("/v1/runs/\(id)/tasks/Script%20Two/log")
            #expect(log.status == 200)
            #expect(log.text.contains("script two: done"), "\(log)")
            #expect(log.text.contains("run \(id), task Script Two, attempt 1"), "\(log)")
        }
    }

    @Test func runDeadlineEndsTheRunTimedOutAndTaskTimeoutFailsIt() async throws {
        try await withTestServer { server in
            let deadline = try await server.submit([
                "name": "deadline", "timeout_seconds": 0.5, "kill_grace_seconds": 0,
                "tasks": [["name": "slow", "command": "sleep 30"]],
            ])
            let taskTimeout = try await server.submit([
                "name": "task-timeout", "kill_grace_seconds": 0,
                "tasks": [["name": "slow", "command": "sleep 30", "timeout_seconds": 0.5]],
            ])
            let first = try await server.waitForRun(try #require(deadline["id"] as? String))
            #expect(first["status"] as? String == "timed_out", "\(first)")
            #expect(isRFC3339Milliseconds(first["finished_at"]))
            let second = try await server.waitForRun(try #require(taskTimeout["id"] as? String))
            #expect(second["status"] as? String == "failed", "\(second)")
            #expect(task(second, "slow")?["status"] as? String == "timed_out", "\(second)")
            let reason = task(second, "slow")?["reason"] as? String ?? ""
            #expect(reason.contains("timeout"), "\(second)")
        }
    }

    /// A stock client (URLSession, libcurl underneath on Linux) can submit and poll.
    @Test func stockURLSessionClientSubmitsAndPolls() async throws {
        try await withTestServer { server in
            let base = "http://127.0.0.1:\(try server.port)"
            let configuration = URLSessionConfiguration.ephemeral
            configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
            configuration.urlCache = nil
            let session = URLSession(configuration: configuration)
            var post = URLRequest(url: try #require(URL(string: "\(base)/v1/runs")))
            post.httpMethod = "POST"
            post.setValue("application/json", forHTTPHeaderField: "Content-Type")
            post.httpBody = Data(#"{"name":"curl-like","tasks":[{"name":"hello","command":"echo hello"}]}"#.utf8)
            let (body, answer) = try await session.data(for: post)
            let http = try #require(answer as? HTTPURLResponse)
            #expect(http.statusCode == 201)
            let created = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let id = try #require(created["id"] as? String)
            #expect(http.value(forHTTPHeaderField: "Location") == "/v1/runs/\(id)")
            var status = ""
            let deadline = ContinuousClock.now + .seconds(30)
            while !terminalRunStatuses.contains(status) && ContinuousClock.now < deadline {
                let (data, _) = try await session.data(from: try #require(URL(string: "\(base)/v1/runs/\(id)")))
                status = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String ?? ""
                if !terminalRunStatuses.contains(status) { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(status == "succeeded")
            let (health, healthAnswer) = try await session.data(from: try #require(URL(string: "\(base)/healthz")))
            #expect((healthAnswer as? HTTPURLResponse)?.statusCode == 200)
            #expect((try JSONSerialization.jsonObject(with: health) as? [String: String]) == ["status": "ok"])
            session.finishTasksAndInvalidate()
        }
    }
}
