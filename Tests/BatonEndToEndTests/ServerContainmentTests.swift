import Foundation
import Glibc
import Testing

/// SPEC §2–§3 "no task process is ever left behind", and its converse: nothing that is
/// not a task's is ever killed. Against a real server, kill -9 included.
@Suite struct ServerContainmentTests {
    /// Live processes carrying the run's mark (its tasks and everything they started).
    func marked(_ runID: String) -> [pid_t] {
        ProcessTable.pids(carrying: "BATON_RUN_ID", value: runID).filter { ProcessTable.entry($0)?.isZombie == false }
    }

    @Test func aDaemonThatLeftItsTaskGroupIsStoppedWhenTheTaskEnds() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [["name": "daemon", "command": "(setsid sleep 617 >/dev/null 2>&1 </dev/null &); sleep 0.2"]]
            ])
            let id = try #require(created["id"] as? String)
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded")
            try await waitUntil("the escaped sleep 617 to be stopped", within: .seconds(10)) { marked(id).isEmpty }
        }
    }

    /// The same when the task is stopped instead of ending: by its timeout, or by a cancel.
    @Test(arguments: ["timeout", "cancel"])
    func aDaemonThatLeftItsTaskGroupIsStoppedWhenTheTaskIsStopped(_ how: String) async throws {
        try await withTestServer { server in
            var daemon: [String: Any] = [
                "name": "daemon", "command": "(setsid sleep 619 >/dev/null 2>&1 </dev/null &); sleep 60",
            ]
            // Long enough for a loaded machine (the whole suite in parallel on 2 cores) to see
            // the daemon start first.
            if how == "timeout" { daemon["timeout_seconds"] = 12 }
            let created = try await server.submit(["kill_grace_seconds": 1, "tasks": [daemon]])
            let id = try #require(created["id"] as? String)
            // The escaped daemon leads a session of its own (the task's shell leads its group).
            try await waitUntil("the escaped sleep 619 to start", within: .seconds(10)) {
                marked(id).contains { pid in
                    ProcessTable.entry(pid).map { $0.command == "sleep" && $0.pgid == pid } ?? false
                }
            }
            if how == "cancel" {
                #expect(try await server.client.post("/v1/runs/\(id)/cancel").status == 202)
            }
            let done = try await server.waitForRun(id)
            let status = how == "timeout" ? "timed_out" : "cancelled"
            #expect(task(done, "daemon")?["status"] as? String == status, "\(done)")
            try await waitUntil("the escaped sleep 619 to be stopped", within: .seconds(10)) { marked(id).isEmpty }
        }
    }

    @Test func startingAttemptsAreRecordedBeforeTheirProcessesExist() async throws {
        try await withTestServer(ServerOptions(workers: 64)) { server in
            let tasks = (0..<50).map { index -> [String: Any] in
                [
                    "name": "t\(index)", "restartable": false,
                    "command": "echo $BATON_ATTEMPT >> \"$DIR/started-\(index)\"; sleep 30",
                ]
            }
            let created = try await server.submit(["name": "fragile", "tasks": tasks])
            let id = try #require(created["id"] as? String)
            try await waitUntil("a first task to start", within: .seconds(20)) {
                (try? FileManager.default.contentsOfDirectory(atPath: server.scratch.directory.path))?
                    .contains { $0.hasPrefix("started-") } == true
            }
            try await server.kill9()
            try await server.start()
            let done = try await server.waitForRun(id, within: .seconds(60))
            // Every task ran at most once: one that was starting when the server died is
            // interrupted (failed: it is not restartable), never started afresh.
            for index in 0..<50 {
                let lines = server.scratch.lines("started-\(index)")
                #expect(lines.count <= 1, "t\(index) started \(lines.count) times: \(lines)")
            }
            let statuses = taskStatuses(done)
            let ranBefore = (0..<50).filter { !server.scratch.lines("started-\($0)").isEmpty }
            for index in ranBefore where statuses["t\(index)"] == "running" {
                Issue.record("t\(index) still running after the run ended")
            }
            // The first copies (`sleep 30` of the dead server) were killed on restart.
            try await waitUntil("no process of the run left", within: .seconds(10)) { marked(id).isEmpty }
        }
    }

    @Test func aRestartKillsWhatTheTaskLeftButNeverAStrangerOnTheRecordedProcessID() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [["name": "long", "restartable": false, "command": "touch \"$DIR/started\"; sleep 30; true"]]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForFile("started")
            try await server.kill9()
            let leftovers = marked(id)
            #expect(!leftovers.isEmpty, "the task outlives the killed server")
            // While the server is down, the recorded process group id comes to name an
            // unrelated process (as when the task ends and the id is reused): a `setsid`
            // daemon, leader of its own group.
            let stranger = Process()
            stranger.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            stranger.arguments = ["sleep", "60"]
            try stranger.run()
            defer { stranger.terminate() }
            try await waitUntil("the stranger to lead its group", within: .seconds(5)) {
                ProcessTable.entry(stranger.processIdentifier)?.pgid == stranger.processIdentifier
            }
            try Self.sqlite(
                server.scratch.database,
                "UPDATE tasks SET pgid = \(stranger.processIdentifier) WHERE run_id = '\(id)'")
            try await server.start()
            let done = try await server.waitForRun(id)
            #expect(taskStatuses(done)["long"] != "running")
            try await waitUntil("the task's leftovers to be killed", within: .seconds(10)) { marked(id).isEmpty }
            #expect(stranger.isRunning, "the restart killed pid \(stranger.processIdentifier), which is not the task's")
        }
    }

    /// Runs one SQL statement on the (stopped) server's database.
    static func sqlite(_ database: String, _ statement: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", database, statement]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw E2EError("sqlite3 \(statement) failed") }
    }
}
