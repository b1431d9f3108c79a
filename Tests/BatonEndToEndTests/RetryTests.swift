import Foundation
import Testing

/// `POST /v1/runs/{id}/retry` (SPEC §4): a new run that keeps the original's succeeded
/// tasks and executes again what did not succeed and everything after it.
@Suite(.timeLimit(.minutes(3))) struct RetryTests {
    /// A command that appends one line per execution to `$DIR/NAME.count`, then runs `then`.
    static func counted(_ name: String, then: String = "true") -> String {
        "echo \"$BATON_RUN_ID $BATON_ATTEMPT\" >> \"$DIR/\(name).count\"; \(then)"
    }

    /// `a` succeeds, `b` fails until `b-ok` exists, `c` depends on `b`, `d` is independent.
    static var diamondSpec: [String: Any] {
        [
            "name": "retry me", "mode": "waitall",
            "tasks": [
                ["name": "a", "command": counted("a")],
                ["name": "b", "command": counted("b", then: "[ -e \"$DIR/b-ok\" ]"), "depends_on": ["a"]],
                ["name": "c", "command": counted("c"), "depends_on": ["b"]],
                ["name": "d", "command": counted("d")],
            ],
        ]
    }

    @Test func retryKeepsSuccessesAndReexecutesTheRest() async throws {
        try await withTestServer { server in
            let created = try await server.submit(Self.diamondSpec)
            let original = try #require(created["id"] as? String)
            let first = try await server.waitForRun(original)
            #expect(first["status"] as? String == "failed", "\(first)")
            #expect(
                taskStatuses(first) == ["a": "succeeded", "b": "failed", "c": "skipped", "d": "succeeded"], "\(first)")

            try server.touch("b-ok")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            #expect(response.status == 201, "\(response)")
            let answered = try response.json()
            expectRunShape(answered)
            let id = try #require(answered["id"] as? String)
            #expect(id != original)
            #expect(response.header("Location") == "/v1/runs/\(id)", "\(response)")
            let trigger = answered["trigger"] as? [String: Any] ?? [:]
            #expect(trigger["type"] as? String == "retry", "\(trigger)")
            #expect(trigger["original_run_id"] as? String == original, "\(trigger)")
            #expect(Set(trigger.keys) == ["type", "original_run_id"], "\(trigger)")
            #expect(answered["name"] as? String == "retry me")
            #expect(answered["workflow"] is NSNull)
            // The kept tasks are succeeded from the start.
            #expect(task(answered, "a")?["status"] as? String == "succeeded", "\(answered)")
            #expect(task(answered, "d")?["status"] as? String == "succeeded", "\(answered)")

            let retried = try await server.waitForRun(id)
            expectRunShape(retried)
            #expect(retried["status"] as? String == "succeeded", "\(retried)")
            #expect(taskStatuses(retried) == ["a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"])
            for name in ["a", "d"] {
                let kept = try #require(task(retried, name))
                let before = try #require(task(first, name))
                #expect(kept["attempt"] as? Int == before["attempt"] as? Int, "\(name) kept its attempt: \(kept)")
                #expect(kept["exit_code"] as? Int == 0, "\(kept)")
                #expect(kept["started_at"] as? String == before["started_at"] as? String, "\(name) was not run again")
                #expect(kept["finished_at"] as? String == before["finished_at"] as? String, "\(kept)")
            }
            // Executed once in all (the original), b twice, c once (only in the retry).
            #expect(server.scratch.lines("a.count") == ["\(original) 1"])
            #expect(server.scratch.lines("d.count") == ["\(original) 1"])
            #expect(
                server.scratch.lines("b.count") == ["\(original) 1", "\(id) 1"], "a fresh attempt 1 in the new run")
            #expect(server.scratch.lines("c.count") == ["\(id) 1"])
            #expect(task(retried, "b")?["attempt"] as? Int == 1)
            #expect(task(retried, "c")?["attempt"] as? Int == 1)

            // The original is untouched, and both show in the list.
            let again = try await server.run(original)
            #expect(again["status"] as? String == "failed")
            #expect(taskStatuses(again) == taskStatuses(first))
            let list = try await server.client.get("/v1/runs")
            let ids = (try list.json()["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == [id, original], "newest first: \(ids)")

            // Logs: the re-executed task's log is the new attempt's; a kept task's is the old one.
            let bLog = try await server.client.get("/v1/runs/\(id)/tasks/b/log")
            #expect(bLog.status == 200, "\(bLog)")
            let aLog = try await server.client.get("/v1/runs/\(id)/tasks/a/log")
            #expect(aLog.status == 200, "a kept task still has a readable log: \(aLog)")
        }
    }

    @Test func retryOfARetryAndOfACancelledRun() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "name": "cancel then retry",
                "tasks": [
                    ["name": "early", "command": Self.counted("early")],
                    [
                        "name": "gate", "command": Self.counted("gate", then: waitForFileCommand("open")),
                        "depends_on": ["early"],
                    ],
                    ["name": "after", "command": Self.counted("after"), "depends_on": ["gate"]],
                ],
            ])
            let original = try #require(created["id"] as? String)
            try await server.waitForTask(original, "gate", status: "running")
            let cancel = try await server.client.post("/v1/runs/\(original)/cancel")
            #expect(cancel.status == 202, "\(cancel)")
            let cancelled = try await server.waitForRun(original)
            #expect(cancelled["status"] as? String == "cancelled")
            #expect(taskStatuses(cancelled) == ["early": "succeeded", "gate": "cancelled", "after": "cancelled"])

            try server.touch("open")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            #expect(response.status == 201, "\(response)")
            let id = try #require(try response.json()["id"] as? String)
            let retried = try await server.waitForRun(id)
            #expect(retried["status"] as? String == "succeeded", "\(retried)")
            #expect(server.scratch.lines("early.count").count == 1)
            #expect(server.scratch.lines("gate.count").count == 2)
            #expect(server.scratch.lines("after.count") == ["\(id) 1"])

            // A retry of a run that succeeded re-executes nothing and succeeds.
            let second = try await server.client.post("/v1/runs/\(id)/retry")
            #expect(second.status == 201, "\(second)")
            let secondID = try #require(try second.json()["id"] as? String)
            #expect((try second.json()["trigger"] as? [String: Any])?["original_run_id"] as? String == id)
            let nothing = try await server.waitForRun(secondID)
            #expect(nothing["status"] as? String == "succeeded", "\(nothing)")
            #expect(taskStatuses(nothing) == ["early": "succeeded", "gate": "succeeded", "after": "succeeded"])
            #expect(server.scratch.lines("early.count").count == 1)
            #expect(server.scratch.lines("gate.count").count == 2)
            #expect(server.scratch.lines("after.count").count == 1)
            #expect(!(nothing["finished_at"] is NSNull), "\(nothing)")
        }
    }

    @Test func laterGroupsAndSequentialFollowersAreReexecuted() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "mode": "waitall",
                "groups": [
                    ["name": "build", "strategy": "sequential"],
                    ["name": "ship"],
                ],
                "tasks": [
                    ["name": "compile", "group": "build", "command": Self.counted("compile")],
                    ["name": "test", "group": "build", "command": Self.counted("test", then: "[ -e \"$DIR/fixed\" ]")],
                    ["name": "package", "group": "build", "command": Self.counted("package")],
                    ["name": "upload", "group": "ship", "command": Self.counted("upload")],
                    ["name": "lint", "command": Self.counted("lint")],
                ],
            ])
            let original = try #require(created["id"] as? String)
            let first = try await server.waitForRun(original)
            #expect(first["status"] as? String == "failed", "\(first)")
            #expect(task(first, "test")?["status"] as? String == "failed")
            try server.touch("fixed")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            #expect(response.status == 201, "\(response)")
            let id = try #require(try response.json()["id"] as? String)
            let retried = try await server.waitForRun(id)
            #expect(retried["status"] as? String == "succeeded", "\(retried)")
            #expect(server.scratch.lines("compile.count").count == 1, "before the failure: kept")
            #expect(server.scratch.lines("lint.count").count == 1, "independent and succeeded: kept")
            #expect(server.scratch.lines("test.count").count == 2)
            #expect(
                server.scratch.lines("package.count").last?.hasPrefix(id) == true, "after it in its sequential group")
            #expect(server.scratch.lines("upload.count").last?.hasPrefix(id) == true, "a later group")
        }
    }

    @Test func keptTasksShowTheirOriginalLog() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    ["name": "setup", "command": "echo prepared the workspace"],
                    ["name": "check", "command": "echo checking; [ -e \"$DIR/pass\" ]", "depends_on": ["setup"]],
                ]
            ])
            let original = try #require(created["id"] as? String)
            try await server.waitForRun(original)
            try server.touch("pass")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            let id = try #require(try response.json()["id"] as? String)
            try await server.waitForRun(id)
            let kept = try await server.client.get("/v1/runs/\(id)/tasks/setup/log")
            #expect(kept.status == 200, "\(kept)")
            #expect(kept.header("X-Log-Complete") == "true", "\(kept)")
            // The Run says setup succeeded at attempt 1; its log is that attempt's output.
            #expect(kept.text == "prepared the workspace\n", "log of a kept task in the retry run: \(kept)")
            let rerun = try await server.client.get("/v1/runs/\(id)/tasks/check/log")
            #expect(rerun.text == "checking\n", "\(rerun)")
        }
    }

    @Test func aRetryRunResumesAfterAServerKillWithoutRerunningKeptTasks() async throws {
        try await withTestServer { server in
            // b fails at once, unless `hold` exists: then it first waits for `go`.
            let gate = "if [ -e \"$DIR/hold\" ]; then \(waitForFileCommand("go")); fi; [ -e \"$DIR/b-ok\" ]"
            let created = try await server.submit([
                "mode": "waitall",
                "tasks": [
                    ["name": "a", "command": Self.counted("a")],
                    ["name": "b", "command": Self.counted("b", then: gate), "depends_on": ["a"]],
                    ["name": "c", "command": Self.counted("c"), "depends_on": ["b"]],
                    ["name": "d", "command": Self.counted("d")],
                ],
            ])
            let original = try #require(created["id"] as? String)
            let first = try await server.waitForRun(original)
            #expect(first["status"] as? String == "failed", "\(first)")
            try server.touch("hold")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            let id = try #require(try response.json()["id"] as? String)
            try await server.waitForTask(id, "b", status: "running")

            try await server.kill9()
            try await server.start()
            try server.touch("b-ok")
            try server.touch("go")
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(taskStatuses(done) == ["a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"])
            #expect(server.scratch.lines("a.count") == ["\(original) 1"], "kept across the restart")
            #expect(server.scratch.lines("d.count") == ["\(original) 1"], "kept across the restart")
            #expect(
                server.scratch.lines("b.count").count == 3,
                "original, before the kill, after: \(server.scratch.lines("b.count"))")
            #expect(server.scratch.lines("c.count") == ["\(id) 1"])
        }
    }

    @Test func retryOfAWebhookRunKeepsItsWorkflowAndPayload() async throws {
        try await withTestServer { server in
            let secret = "retry-hook-\(UUID().uuidString)"
            try await server.storeWorkflow(
                "hooked",
                [
                    "spec": [
                        "tasks": [
                            [
                                "name": "consume",
                                "command":
                                    "cat \"$BATON_WEBHOOK_PAYLOAD\" > \"$DIR/payload-$BATON_RUN_ID\"; "
                                    + "printf '%s' \"$BATON_WEBHOOK_EVENT\" > \"$DIR/event-$BATON_RUN_ID\"; [ -e \"$DIR/ok\" ]",
                            ]
                        ]
                    ],
                    "webhook": ["secret": secret],
                ])
            let body = Data(#"{"action": "opened", "number": 7}"#.utf8)
            let hook = try await server.hook(
                "hooked", body: body,
                headers: [
                    "X-Hub-Signature-256": TestHMAC.signature(body, secret: secret), "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": UUID().uuidString,
                ])
            #expect(hook.status == 202, "\(hook)")
            let original = try #require(try hook.json()["run_id"] as? String)
            let first = try await server.waitForRun(original)
            #expect(first["status"] as? String == "failed")
            try server.touch("ok")
            let response = try await server.client.post("/v1/runs/\(original)/retry")
            #expect(response.status == 201, "\(response)")
            let id = try #require(try response.json()["id"] as? String)
            let retried = try await server.waitForRun(id)
            #expect(retried["status"] as? String == "succeeded", "\(retried)")
            #expect(retried["workflow"] as? String == "hooked", "a retry stays in its workflow: \(retried)")
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(id)")) == body)
            #expect(server.scratch.read("event-\(id)") == "pull_request")
            let listed = try await server.workflowRuns("hooked").compactMap { $0["id"] as? String }
            #expect(listed == [id, original], "\(listed)")
        }
    }

    @Test func retryOfARunningRunIs409AndUnknownIs404() async throws {
        try await withTestServer { server in
            let created = try await server.submit(["tasks": [["name": "hold", "command": waitForFileCommand("free")]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "hold", status: "running")
            let conflict = try await server.client.post("/v1/runs/\(id)/retry")
            expectProblem(conflict, 409)
            try server.touch("free")
            try await server.waitForRun(id)
            let unknown = try await server.client.post("/v1/runs/01nosuchrun0000000000000/retry")
            expectProblem(unknown, 404)
            let wrongMethod = try await server.client.get("/v1/runs/\(id)/retry")
            expectProblem(wrongMethod, 405)
            #expect(wrongMethod.header("Allow")?.contains("POST") == true, "\(wrongMethod)")
            let runs = try await server.client.get("/v1/runs")
            #expect((try runs.json()["runs"] as? [[String: Any]])?.count == 1, "no run created by the refusals")
        }
    }

    @Test func retryNeedsTheToken() async throws {
        try await withTestServer(ServerOptions(token: "retry-token")) { server in
            let created = try await server.submit(["tasks": [["name": "boom", "command": "exit 1"]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForRun(id)
            let refused = try await server.client.request("POST", "/v1/runs/\(id)/retry", authorization: "")
            expectProblem(refused, 401)
            let ok = try await server.client.post("/v1/runs/\(id)/retry")
            #expect(ok.status == 201, "\(ok)")
        }
    }
}
