import Foundation
import Testing

/// The client commands (`baton submit/status/cancel/retry/logs`, README "The client
/// commands") against a real `baton serve`: output and the documented exit codes.
@Suite(.timeLimit(.minutes(3))) struct ClientCommandTests {
    /// `baton ARGUMENTS --server URL` run to completion.
    static func client(
        _ server: TestServer, _ arguments: [String], environment: [String: String] = [:],
        within limit: Duration = .seconds(60)
    ) async throws -> BatonExit {
        try await server.scratch.baton(
            arguments + ["--server", try server.baseURL], environment: environment, within: limit)
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// The stderr of a failed client: one line starting `baton:`.
    static func expectOneErrorLine(_ exit: BatonExit, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(exit.errorLines.count == 1, "\(exit)", sourceLocation: sourceLocation)
        #expect(exit.errorLines.first?.hasPrefix("baton: ") == true, "\(exit)", sourceLocation: sourceLocation)
    }

    @Test func submitPrintsTheIDAndStatusShowsTheRun() async throws {
        try await withTestServer { server in
            let file = try server.scratch.writeSpec(
                ["name": "from the cli", "tasks": [["name": "hello", "command": "echo hello from $BATON_TASK"]]])
            let submit = try await Self.client(server, ["submit", file])
            #expect(submit.status == 0, "\(submit)")
            let id = Self.trimmed(submit.stdout)
            #expect(!id.isEmpty && !id.contains("\n") && !id.contains(" "), "only the id: \(submit.stdout)")
            let run = try await server.waitForRun(id)
            #expect(run["status"] as? String == "succeeded")
            #expect(run["name"] as? String == "from the cli")
            #expect((run["trigger"] as? [String: Any])?["type"] as? String == "api")

            let json = try await Self.client(server, ["status", id, "--json"])
            #expect(json.status == 0, "\(json)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(document["id"] as? String == id)
            #expect(document["status"] as? String == "succeeded")
            #expect(taskStatuses(document) == ["hello": "succeeded"], "\(document)")

            let table = try await Self.client(server, ["status", id])
            #expect(table.status == 0, "\(table)")
            #expect(table.stdout.contains("hello") && table.stdout.contains("succeeded"), "\(table)")

            let list = try await Self.client(server, ["status"])
            #expect(list.status == 0, "\(list)")
            #expect(list.stdout.contains(id), "\(list)")
            let listJSON = try await Self.client(server, ["status", "--json"])
            #expect(listJSON.status == 0, "\(listJSON)")
            let runs = try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]]
            #expect(runs?.compactMap { $0["id"] as? String } == [id], "\(listJSON)")

            // BATON_SERVER instead of --server.
            let viaEnvironment = try await server.scratch.baton(
                ["status", id], environment: ["BATON_SERVER": try server.baseURL])
            #expect(viaEnvironment.status == 0, "\(viaEnvironment)")

            // A YAML spec is sent as YAML.
            let yaml = try server.scratch.write(
                "spec.yaml", "name: yaml run\ntasks:\n  - name: y\n    command: \"true\"\n")
            let yamlSubmit = try await Self.client(server, ["submit", yaml])
            #expect(yamlSubmit.status == 0, "\(yamlSubmit)")
            let yamlRun = try await server.waitForRun(Self.trimmed(yamlSubmit.stdout))
            #expect(yamlRun["name"] as? String == "yaml run")
        }
    }

    @Test func submitWaitExitsLikeBatonRunAndPrintsTheTable() async throws {
        try await withTestServer { server in
            let failing = try server.scratch.writeSpec(
                [
                    "name": "doomed",
                    "tasks": [
                        ["name": "works", "command": "true"],
                        ["name": "breaks", "command": "exit 3", "depends_on": ["works"]],
                        ["name": "never", "command": "true", "depends_on": ["breaks"]],
                    ],
                ], name: "failing.json")
            let failed = try await Self.client(server, ["submit", failing, "--wait"])
            #expect(failed.status == 1, "\(failed)")
            for word in ["works", "breaks", "never", "failed", "skipped", "succeeded"] {
                #expect(failed.stdout.contains(word), "table lacks \(word): \(failed)")
            }
            let runs = try await server.client.get("/v1/runs")
            let summaries = try runs.json()["runs"] as? [[String: Any]] ?? []
            #expect(summaries.count == 1)
            #expect(summaries.first?["status"] as? String == "failed")

            let passing = try server.scratch.writeSpec(["tasks": [["name": "ok", "command": "true"]]], name: "ok.json")
            let passed = try await Self.client(server, ["submit", passing, "--wait"])
            #expect(passed.status == 0, "\(passed)")
            #expect(passed.stdout.contains("ok"), "\(passed)")

            let passedJSON = try await Self.client(server, ["submit", passing, "--wait", "--json"])
            #expect(passedJSON.status == 0, "\(passedJSON)")
            let document = try JSONSerialization.jsonObject(with: Data(passedJSON.stdout.utf8)) as? [String: Any]
            #expect(document?["status"] as? String == "succeeded", "\(passedJSON)")

            let failedStatus = try await Self.client(server, ["status", summaries.first?["id"] as? String ?? "?"])
            #expect(failedStatus.status == 1, "status of a failed run exits 1: \(failedStatus)")

            // An invalid spec: 2, with the server's message.
            let invalid = try server.scratch.write("bad.json", #"{"tasks": [{"name": "x", "comand": "true"}]}"#)
            let rejected = try await Self.client(server, ["submit", invalid])
            #expect(rejected.status == 2, "\(rejected)")
            #expect(rejected.stderr.contains("comand"), "\(rejected)")
            let missing = try await Self.client(server, ["submit", server.scratch.path("no-such-file.json")])
            #expect(missing.status == 2, "\(missing)")
            Self.expectOneErrorLine(missing)
        }
    }

    @Test func cancelARunningRunThenAgainAfterItEnded() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "kill_grace_seconds": 1, "tasks": [["name": "long", "command": "sleep 300"]],
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "long", status: "running")

            let running = try await Self.client(server, ["status", id])
            #expect(running.status == 9, "status of a running run exits 9: \(running)")

            let cancel = try await Self.client(server, ["cancel", id])
            #expect(cancel.status == 0, "\(cancel)")
            #expect(cancel.stdout.contains(id), "\(cancel)")
            let ended = try await server.waitForRun(id)
            #expect(ended["status"] as? String == "cancelled")

            let again = try await Self.client(server, ["cancel", id])
            #expect(again.status == 8, "conflict: \(again)")
            Self.expectOneErrorLine(again)
            let status = try await Self.client(server, ["status", id])
            #expect(status.status == 4, "status of a cancelled run exits 4: \(status)")

            let unknown = try await Self.client(server, ["cancel", "01nosuchrun0000000000000"])
            #expect(unknown.status == 6, "\(unknown)")
            Self.expectOneErrorLine(unknown)
            let unknownStatus = try await Self.client(server, ["status", "01nosuchrun0000000000000"])
            #expect(unknownStatus.status == 6, "\(unknownStatus)")
        }
    }

    @Test func retryCommandPrintsTheNewRun() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [["name": "flaky", "command": "[ -e \"$DIR/ok\" ]"]]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForRun(id)
            try server.touch("ok")
            let retry = try await Self.client(server, ["retry", id])
            #expect(retry.status == 0, "\(retry)")
            let newID = Self.trimmed(retry.stdout)
            #expect(newID != id && !newID.isEmpty)
            let run = try await server.waitForRun(newID)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            #expect((run["trigger"] as? [String: Any])?["original_run_id"] as? String == id)
        }
    }

    @Test func logsPrintsAndFollowsATask() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    ["name": "build step", "command": "printf 'line one\\nline two\\n'; echo to stderr >&2"],
                    [
                        "name": "tail me",
                        "command": "echo first; " + waitForFileCommand("continue") + "; echo second",
                    ],
                ]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "build step", status: "succeeded")
            let logs = try await Self.client(server, ["logs", id, "build step"])
            #expect(logs.status == 0, "\(logs)")
            #expect(logs.stdout == "line one\nline two\nto stderr\n", "\(logs)")

            // --follow: keeps polling while the task runs (the first line is already in the
            // log), and returns once the task has ended, with everything it printed.
            let logPath = "/v1/runs/\(id)/tasks/tail%20me/log"
            _ = try await eventually("the first line of 'tail me'") { () async throws -> Bool? in
                let answer = try await server.client.get(logPath)
                return answer.text.contains("first") ? true : nil
            }
            let process = try server.process
            func logRequests() -> Int {
                process.stderr.split(separator: "\n").filter { $0.contains("/tasks/tail") && $0.contains("/log") }.count
            }
            let before = logRequests()
            let follower = try BatonProcess(
                ["logs", id, "tail me", "--follow", "--server", try server.baseURL], scratch: server.scratch)
            // The server logs every request: wait until the follower has polled at least
            // twice, i.e. it saw the first line, was not done, and asked again.
            try await waitUntil("the follower to poll twice", within: .seconds(30)) {
                logRequests() >= before + 2 || !follower.isRunning
            }
            #expect(follower.isRunning, "--follow returned before the task ended")
            try server.touch("continue")
            let followed = try await follower.finish(within: .seconds(60))
            #expect(followed.status == 0, "\(followed)")
            #expect(followed.stdout == "first\nsecond\n", "\(followed)")
            let run = try await server.waitForRun(id)
            #expect(run["status"] as? String == "succeeded")

            let unknownTask = try await Self.client(server, ["logs", id, "nope"])
            #expect(unknownTask.status == 6, "\(unknownTask)")
        }
    }

    @Test func tokenFromEnvironmentOrFileAndMissingIs7() async throws {
        let token = "client-token-\(UUID().uuidString)"
        try await withTestServer(ServerOptions(token: token)) { server in
            let file = try server.scratch.writeSpec(["tasks": [["name": "t", "command": "true"]]])
            let missing = try await Self.client(server, ["submit", file])
            #expect(missing.status == 7, "\(missing)")
            Self.expectOneErrorLine(missing)
            #expect(!missing.stderr.contains(token))

            let wrong = try await Self.client(server, ["submit", file], environment: ["BATON_TOKEN": "wrong"])
            #expect(wrong.status == 7, "\(wrong)")

            let viaEnvironment = try await Self.client(server, ["submit", file], environment: ["BATON_TOKEN": token])
            #expect(viaEnvironment.status == 0, "\(viaEnvironment)")
            let id = Self.trimmed(viaEnvironment.stdout)
            try await server.waitForRun(id)

            let tokenFile = try server.scratch.write("client-token", token + "\n")
            let viaFile = try await Self.client(server, ["status", id, "--token-file", tokenFile])
            #expect(viaFile.status == 0, "\(viaFile)")
            let statusMissing = try await Self.client(server, ["status", id])
            #expect(statusMissing.status == 7, "\(statusMissing)")
            let cancelMissing = try await Self.client(server, ["cancel", id])
            #expect(cancelMissing.status == 7, "\(cancelMissing)")
            let logsMissing = try await Self.client(server, ["logs", id, "t"])
            #expect(logsMissing.status == 7, "\(logsMissing)")
        }
    }

    @Test func unreachableServerIs5() async throws {
        let refusing = try RefusingPort()
        defer { refusing.close() }
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let file = try scratch.writeSpec(["tasks": [["name": "t", "command": "true"]]])
        for arguments in [
            ["submit", file], ["status", "someid"], ["cancel", "someid"], ["logs", "someid", "t"], ["status"],
        ] {
            let exit = try await scratch.baton(arguments + ["--server", refusing.url])
            #expect(exit.status == 5, "\(arguments): \(exit)")
            Self.expectOneErrorLine(exit)
        }
        let viaEnvironment = try await scratch.baton(["status"], environment: ["BATON_SERVER": refusing.url])
        #expect(viaEnvironment.status == 5, "\(viaEnvironment)")
    }
}
