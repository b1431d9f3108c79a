import Foundation
import Glibc
import Testing

/// `kill -9` and SIGTERM of `baton serve` mid-run, and restarts on the same data dir.
@Suite struct ServerRecoveryTests {
    /// A task that appends its attempt to `NAME.attempts`, writes its shell's pid to
    /// `NAME.pid.ATTEMPT`, then waits for the file `go`.
    static func recordingCommand(_ name: String) -> String {
        "echo $BATON_ATTEMPT >> \"$DIR/\(name).attempts\"; echo $$ > \"$DIR/\(name).tmp.$BATON_ATTEMPT\"; "
            + "mv \"$DIR/\(name).tmp.$BATON_ATTEMPT\" \"$DIR/\(name).pid.$BATON_ATTEMPT\"; "
            + waitForFileCommand("go")
    }

    static func pid(_ server: TestServer, _ file: String) async throws -> pid_t {
        let text = try await server.waitForFile(file)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw E2EError("bad pid file \(file): \(text)")
        }
        return pid
    }

    @Test func killNineThenRestartKeepsEveryRunAndResumesThem() async throws {
        try await withTestServer(ServerOptions(workers: 4)) { server in
            let finished = try await server.submit([
                "name": "finished", "tasks": [["name": "t", "command": "echo ok"]],
            ])
            let finishedID = try #require(finished["id"] as? String)
            try await server.waitForRun(finishedID)

            let main = try await server.submit([
                "name": "interrupted", "mode": "waitall",
                "tasks": [
                    ["name": "restartable", "command": Self.recordingCommand("restartable")],
                    ["name": "fragile", "command": Self.recordingCommand("fragile"), "restartable": false],
                    [
                        "name": "after", "command": "echo after > \"$DIR/after.out\"",
                        "depends_on": ["restartable"],
                    ],
                ],
            ])
            let mainID = try #require(main["id"] as? String)
            let queued = try await server.submit([
                "name": "second", "tasks": [["name": "other", "command": Self.recordingCommand("other")]],
            ])
            let queuedID = try #require(queued["id"] as? String)
            let oldRestartable = try await Self.pid(server, "restartable.pid.1")
            let oldFragile = try await Self.pid(server, "fragile.pid.1")
            let oldOther = try await Self.pid(server, "other.pid.1")
            try await server.waitForRun(mainID) { ($0["counts"] as? [String: Int])?["running"] == 2 }
            // One more, accepted just before the crash: a 201 means it is on disk.
            let late = try await server.submit(["name": "late", "tasks": [["name": "t", "command": "true"]]])
            let lateID = try #require(late["id"] as? String)

            try await server.kill9()
            // The tasks die with their server (PR_SET_PDEATHSIG on each task's leader), so
            // nothing of a crashed node runs on while another node takes its runs over.
            try await waitUntil("the killed server's tasks to die with it", within: .seconds(5)) {
                [oldRestartable, oldFragile, oldOther].allSatisfy { !ProcessTable.isAlive($0) }
            }

            try await server.start()
            let list = try await server.client.get("/v1/runs?limit=1000")
            let ids = Set(((try list.json()["runs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            #expect(ids == [finishedID, mainID, queuedID, lateID], "\(list)")
            // Leftover process groups of the previous server are killed.
            try await waitUntil("leftover tasks of the killed server to be gone", within: .seconds(15)) {
                [oldRestartable, oldFragile, oldOther].allSatisfy { !ProcessTable.isAlive($0) }
                    && [oldRestartable, oldFragile, oldOther].allSatisfy { ProcessTable.members(ofGroup: $0).isEmpty }
            }
            // The restartable task runs again (attempt 2); the other one fails.
            try await server.waitForFile("restartable.pid.2")
            try await server.waitForFile("other.pid.2")
            let fragile = try await server.waitForTask(mainID, "fragile", status: "failed")
            #expect(fragile["reason"] as? String == "interrupted by server restart", "\(fragile)")
            try server.touch("go")

            let done = try await server.waitForRun(mainID)
            expectRunShape(done)
            #expect(done["status"] as? String == "failed", "\(done)")
            #expect(taskStatuses(done) == ["restartable": "succeeded", "fragile": "failed", "after": "succeeded"])
            #expect(task(done, "restartable")?["attempt"] as? Int == 2, "\(done)")
            #expect(server.scratch.lines("restartable.attempts") == ["1", "2"])
            #expect(server.scratch.lines("fragile.attempts") == ["1"], "a restartable: false task never runs again")
            #expect(server.scratch.read("after.out") == "after\n")
            let second = try await server.waitForRun(queuedID)
            #expect(second["status"] as? String == "succeeded", "\(second)")
            #expect(task(second, "other")?["attempt"] as? Int == 2)
            let lateRun = try await server.waitForRun(lateID)
            #expect(lateRun["status"] as? String == "succeeded", "\(lateRun)")
            let finishedAgain = try await server.run(finishedID)
            #expect(finishedAgain["status"] as? String == "succeeded")
            #expect(task(finishedAgain, "t")?["attempt"] as? Int == 1, "finished tasks keep their results")
            let log = try await server.client.get("/v1/runs/\(finishedID)/tasks/t/log")
            #expect(log.text == "ok\n")
        }
    }

    @Test func sigtermStopsEveryTaskExitsZeroAndRestartResumes() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "name": "term", "mode": "waitall",
                "tasks": [
                    ["name": "fragile", "command": Self.recordingCommand("fragile"), "restartable": false],
                    [
                        "name": "worker",
                        "command": "sleep 1000 & echo $! > \"$DIR/child.$BATON_ATTEMPT\"; "
                            + Self.recordingCommand("worker") + "; kill $!",
                    ],
                    ["name": "next", "command": "echo next > \"$DIR/next.out\"", "depends_on": ["worker"]],
                ],
            ])
            let id = try #require(created["id"] as? String)
            let worker = try await Self.pid(server, "worker.pid.1")
            let child = try await Self.pid(server, "child.1")
            let fragile = try await Self.pid(server, "fragile.pid.1")
            let serverPID = try server.process.pid

            let exit = try await server.terminate()
            #expect(exit.status == 0, "\(exit)")
            // Nothing of this test is left: no task, no fork, no server (scan of /proc).
            for pid in [worker, child, fragile] {
                #expect(!ProcessTable.isAlive(pid), "task process \(pid) survived the shutdown")
            }
            #expect(ProcessTable.members(ofGroup: worker).isEmpty, "group \(worker) survived")
            let survivors = ProcessTable.survivors(of: server.scratch).filter { $0.pid != serverPID }
            #expect(survivors.isEmpty, "left behind: \(survivors)")

            try await server.start()
            try await server.waitForFile("worker.pid.2")
            try server.touch("go")
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "failed", "\(done)")
            #expect(taskStatuses(done) == ["fragile": "failed", "worker": "succeeded", "next": "succeeded"])
            #expect(task(done, "fragile")?["reason"] as? String == "interrupted by server restart", "\(done)")
            #expect(server.scratch.lines("fragile.attempts") == ["1"])
            #expect(task(done, "worker")?["attempt"] as? Int == 2, "\(done)")
            #expect(server.scratch.read("next.out") == "next\n")
            #expect(server.scratch.lines("worker.attempts") == ["1", "2"])
            let log = try await server.client.get("/v1/runs/\(id)/tasks/worker/log?attempt=1")
            #expect(log.status == 200)
            #expect(log.header("X-Log-Complete") == "true")
        }
    }

    /// A task that ignores SIGTERM (and its fork, which inherits that) is SIGKILLed once
    /// the run's `kill_grace_seconds` has passed, also when the server shuts down.
    @Test func sigtermShutdownEscalatesToSigkillAfterTheRunsGrace() async throws {
        try await withTestServer { server in
            _ = try await server.submit([
                "name": "stubborn", "kill_grace_seconds": 1,
                "tasks": [
                    [
                        "name": "stubborn",
                        "command": "trap '' TERM; sleep 1000 & echo $! > \"$DIR/child.$BATON_ATTEMPT\"; "
                            + Self.recordingCommand("stubborn"),
                    ]
                ],
            ])
            let shell = try await Self.pid(server, "stubborn.pid.1")
            let child = try await Self.pid(server, "child.1")
            let serverPID = try server.process.pid
            let stopping = ContinuousClock.now
            let exit = try await server.terminate()
            let shutdown = ContinuousClock.now - stopping
            #expect(exit.status == 0, "\(exit)")
            // The run's grace (1 s), not the server's default (10 s): under 9 s even when the
            // whole suite loads the 2 cores (5 s was exceeded in CI: 5.25 s, 6.5 s).
            #expect(shutdown < .seconds(9), "shutdown took \(shutdown) with kill_grace_seconds 1")
            for pid in [shell, child] {
                #expect(!ProcessTable.isAlive(pid), "task process \(pid) survived the shutdown")
            }
            let survivors = ProcessTable.survivors(of: server.scratch).filter { $0.pid != serverPID }
            #expect(survivors.isEmpty, "left behind: \(survivors)")
        }
    }
}
