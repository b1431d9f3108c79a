import Foundation
import Glibc
import Testing

/// Tasks that run a workflow (seed 003's `SchedulerJob`), three deep: each level is a run of
/// its own, linked to its parent task; outcomes, cancels, timeouts and kill -9 go through
/// every level.
@Suite struct NestedWorkflowTests {
    /// top -> task "mid" (runs a workflow) -> task "inner" (runs a workflow) -> task "leaf".
    static func threeDeep(leaf: String, midTask: [String: Any] = [:]) -> [String: Any] {
        var mid: [String: Any] = [
            "name": "mid", "env": ["FROM_MID_TASK": "m"],
            "tasks": [
                ["name": "inner", "tasks": [["name": "leaf", "command": leaf]]],
                ["name": "after", "depends_on": ["inner"], "command": "true"],
            ],
        ]
        mid.merge(midTask) { $1 }
        return [
            "name": "top", "env": ["LEVEL_TOP": "t"], "kill_grace_seconds": 1,
            "tasks": [mid, ["name": "last", "depends_on": ["mid"], "command": "true"]],
        ]
    }

    /// Every run of the server, oldest first.
    func allRuns(_ server: TestServer) async throws -> [[String: Any]] {
        let body = try await server.client.get("/v1/runs?limit=1000").json()
        return (body["runs"] as? [[String: Any]] ?? []).reversed()
    }

    /// The child run of task `task` of run `parent`.
    func child(of parent: String, task: String, in runs: [[String: Any]]) -> [String: Any]? {
        runs.first { run in
            let trigger = run["trigger"] as? [String: Any]
            return trigger?["type"] as? String == "task" && trigger?["run_id"] as? String == parent
                && trigger?["task"] as? String == task
        }
    }

    @Test func threeLevelsAreThreeLinkedRunsAndTheEnvGoesDown() async throws {
        try await withTestServer(ServerOptions(workers: 1)) { server in
            // One worker: a task that runs a workflow holds no slot, or this would wait for ever.
            let created = try await server.submit(
                Self.threeDeep(leaf: "echo \"$LEVEL_TOP $FROM_MID_TASK $BATON_TASK\" > \"$DIR/leaf.out\""))
            let id = try #require(created["id"] as? String)
            let top = try await server.waitForRun(id)
            #expect(top["status"] as? String == "succeeded", "\(top)")
            #expect(server.scratch.read("leaf.out") == "t m leaf\n")
            let runs = try await allRuns(server)
            #expect(runs.count == 3, "\(runs.map { $0["name"] ?? "?" })")
            let mid = try #require(child(of: id, task: "mid", in: runs))
            let midID = try #require(mid["id"] as? String)
            #expect(mid["name"] as? String == "top/mid")
            #expect((mid["trigger"] as? [String: Any])?["attempt"] as? Int == 1)
            let inner = try #require(child(of: midID, task: "inner", in: runs))
            #expect(inner["status"] as? String == "succeeded")
            // The parent task's log names its child run.
            let log = try await server.client.get("/v1/runs/\(id)/tasks/mid/log").text
            #expect(log.contains("as run \(midID)"), "\(log)")
        }
    }

    @Test func aFailureDeepDownFailsEveryLevel() async throws {
        try await withTestServer { server in
            let created = try await server.submit(Self.threeDeep(leaf: "exit 3"))
            let id = try #require(created["id"] as? String)
            let top = try await server.waitForRun(id)
            #expect(top["status"] as? String == "failed")
            #expect(taskStatuses(top) == ["mid": "failed", "last": "skipped"], "\(top)")
            let reason = task(top, "mid")?["reason"] as? String ?? ""
            #expect(reason.hasPrefix("workflow run ") && reason.hasSuffix(" failed"), "\(reason)")
            let runs = try await allRuns(server)
            let midID = try #require(child(of: id, task: "mid", in: runs)?["id"] as? String)
            let mid = try await server.run(midID)
            #expect(taskStatuses(mid) == ["inner": "failed", "after": "skipped"], "\(mid)")
        }
    }

    /// A cancel of the top run, a timeout of the middle task: the stop reaches the leaf's
    /// process, and every level ends.
    @Test(arguments: ["cancel", "timeout"])
    func stopsGoDownToTheLeafProcess(_ how: String) async throws {
        try await withTestServer { server in
            let midTask: [String: Any] = how == "timeout" ? ["timeout_seconds": 3] : [:]
            let created = try await server.submit(
                Self.threeDeep(leaf: "touch \"$DIR/leaf.started\"; sleep 300", midTask: midTask))
            let id = try #require(created["id"] as? String)
            try await server.waitForFile("leaf.started")
            if how == "cancel" {
                #expect(try await server.client.post("/v1/runs/\(id)/cancel").status == 202)
            }
            let top = try await server.waitForRun(id, within: .seconds(30))
            #expect(task(top, "mid")?["status"] as? String == (how == "cancel" ? "cancelled" : "timed_out"), "\(top)")
            for run in try await allRuns(server) {
                let ended = try await server.waitForRun(try #require(run["id"] as? String))
                #expect(terminalRunStatuses.contains(ended["status"] as? String ?? ""))
            }
            try await waitUntil("the leaf's sleep to be stopped", within: .seconds(10)) {
                ProcessTable.pids(carrying: "BATON_TASK", value: "leaf").filter { ProcessTable.isAlive($0) }.isEmpty
            }
        }
    }

    /// kill -9 while the leaf runs: after the restart every level is resumed, the parents
    /// find their children again (no second child run), and the whole tree succeeds.
    @Test func killNineResumesEveryLevel() async throws {
        try await withTestServer { server in
            let leaf = "echo $BATON_ATTEMPT >> \"$DIR/leaf.attempts\"; " + waitForFileCommand("go")
            let created = try await server.submit(Self.threeDeep(leaf: leaf))
            let id = try #require(created["id"] as? String)
            try await server.waitForFile("leaf.attempts")
            try await server.kill9()
            try await server.start()
            try await waitUntil("the leaf to run again", within: .seconds(20)) {
                server.scratch.lines("leaf.attempts").count == 2
            }
            try server.touch("go")
            let top = try await server.waitForRun(id, within: .seconds(30))
            #expect(top["status"] as? String == "succeeded", "\(top)")
            #expect(task(top, "mid")?["attempt"] as? Int == 1, "the same attempt found its child again")
            let runs = try await allRuns(server)
            #expect(runs.count == 3, "no second child run: \(runs.map { $0["name"] ?? "?" })")
            #expect(runs.allSatisfy { $0["status"] as? String == "succeeded" }, "\(runs)")
        }
    }

    @Test func storedWorkflowsAreRunByNameAndRecursionIsRefused() async throws {
        try await withTestServer { server in
            let missing = try await server.putWorkflow(
                "a", ["spec": ["tasks": [["name": "call-b", "workflow": "b"]]]])
            let problem = expectProblem(missing, 400)
            #expect("\(problem)".contains("no stored workflow \\\"b\\\""), "\(problem)")
            try await server.storeWorkflow(
                "b",
                [
                    "spec": [
                        "env": ["FROM_B": "b"],
                        "tasks": [["name": "work", "command": "echo $FROM_B > \"$DIR/b.out\""]],
                    ]
                ])
            try await server.storeWorkflow("a", ["spec": ["tasks": [["name": "call-b", "workflow": "b"]]]])
            // b calling a would make a -> b -> a.
            let recursive = try await server.putWorkflow(
                "b", ["spec": ["tasks": [["name": "call-a", "workflow": "a"]]]])
            let cycle = expectProblem(recursive, 400)
            #expect("\(cycle)".contains("recursive workflow b -> a -> b"), "\(cycle)")
            // A run naming a: a runs b, which writes its env's value (the stored env went down).
            let created = try await server.submit([
                "tasks": [["name": "x", "workflow": "a", "env": ["DIR": server.scratch.directory.path]]]
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForRun(id)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            #expect(server.scratch.read("b.out") == "b\n")
        }
    }

    @Test func nestingBeyondTheLimitIsRefusedWithItsPath() async throws {
        try await withTestServer { server in
            var spec: [String: Any] = ["name": "l6", "command": "true"]
            for level in (1...5).reversed() { spec = ["name": "l\(level)", "tasks": [spec]] }
            let response = try await server.client.post("/v1/runs", json: ["tasks": [spec]])
            let problem = expectProblem(response, 400)
            #expect("\(problem)".contains("nest at most 5 deep"), "\(problem)")
        }
    }
}
