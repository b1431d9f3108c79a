import Foundation
import Glibc
import Testing

/// `POST /v1/runs/{id}/cancel`: the run ends `cancelled` and nothing of its tasks survives.
@Suite struct ServerCancelTests {
    /// A task that forks a long sleep into its own process group and records both pids.
    /// With `ignoreTerm` the shell and its child ignore SIGTERM, so only the SIGKILL after
    /// the grace period stops them.
    static func forkingCommand(_ label: String, ignoreTerm: Bool = false) -> String {
        (ignoreTerm ? "trap '' TERM; " : "")
            + "sleep 1000 & echo $! > \"$DIR/\(label).child.tmp\"; mv \"$DIR/\(label).child.tmp\" \"$DIR/\(label).child\"; "
            + "echo $$ > \"$DIR/\(label).shell.tmp\"; mv \"$DIR/\(label).shell.tmp\" \"$DIR/\(label).shell\"; wait"
    }

    /// Reads a pid file written by `forkingCommand`.
    static func pid(_ server: TestServer, _ name: String) async throws -> pid_t {
        let text = try await server.waitForFile(name)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw E2EError("bad pid file \(name): \(text)")
        }
        return pid
    }

    /// Waits (generous bound) until no live process is left in any of `groups`, and the
    /// group leaders (Baton's own children) are reaped: `kill(pid, 0)` fails with ESRCH.
    static func expectGone(groups: [pid_t], leaders: [pid_t], within limit: Duration = .seconds(10)) async throws {
        try await waitUntil("processes of groups \(groups) to be gone", within: limit) {
            groups.allSatisfy { ProcessTable.members(ofGroup: $0).isEmpty }
        }
        try await waitUntil("group leaders \(leaders) to be reaped", within: limit) {
            leaders.allSatisfy { kill($0, 0) != 0 && errno == ESRCH }
        }
    }

    @Test func cancelStopsEveryProcessOfTheRunAndASecondCancelIs409() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "name": "to-cancel", "kill_grace_seconds": 1,
                "tasks": [
                    ["name": "polite", "command": Self.forkingCommand("polite")],
                    ["name": "stubborn", "command": Self.forkingCommand("stubborn", ignoreTerm: true)],
                    ["name": "never", "command": "touch \"$DIR/never-ran\"", "depends_on": ["polite"]],
                ],
            ])
            let id = try #require(created["id"] as? String)
            var leaders: [pid_t] = []
            var children: [pid_t] = []
            for label in ["polite", "stubborn"] {
                leaders.append(try await Self.pid(server, "\(label).shell"))
                children.append(try await Self.pid(server, "\(label).child"))
            }
            let groups = leaders.compactMap { ProcessTable.entry($0)?.pgid }
            #expect(groups.count == 2)
            for (leader, child) in zip(leaders, children) {
                // Each task is its own process group, and the fork stays in it.
                #expect(ProcessTable.entry(leader)?.pgid == leader)
                #expect(ProcessTable.entry(child)?.pgid == leader)
            }
            try await server.waitForRun(id) { ($0["counts"] as? [String: Int])?["running"] == 2 }

            let cancel = try await server.client.post("/v1/runs/\(id)/cancel")
            #expect(cancel.status == 202, "\(cancel)")
            let answered = try cancel.json()
            expectRunShape(answered)
            #expect(answered["id"] as? String == id)

            let done = try await server.waitForRun(id)
            expectRunShape(done)
            #expect(done["status"] as? String == "cancelled", "\(done)")
            #expect(
                taskStatuses(done) == ["polite": "cancelled", "stubborn": "cancelled", "never": "cancelled"],
                "\(done)")
            #expect(task(done, "polite")?["reason"] as? String == "cancelled by client", "\(done)")
            try await Self.expectGone(groups: groups, leaders: leaders)
            for child in children { #expect(!ProcessTable.isAlive(child), "forked child \(child) survived") }
            #expect(!FileManager.default.fileExists(atPath: server.scratch.path("never-ran")))

            let again = try await server.client.post("/v1/runs/\(id)/cancel")
            expectProblem(again, 409)
            let state = try await server.run(id)
            #expect(state["status"] as? String == "cancelled")
        }
    }

    @Test func cancelOfAFinishedRunIs409AndOfAQueuedRunCancelsIt() async throws {
        try await withTestServer(ServerOptions(workers: 1)) { server in
            let finished = try await server.submit(["tasks": [["name": "quick", "command": "true"]]])
            let finishedID = try #require(finished["id"] as? String)
            try await server.waitForRun(finishedID)
            expectProblem(try await server.client.post("/v1/runs/\(finishedID)/cancel"), 409)

            // One worker, held by `hold`: the second run cannot start a task yet.
            let holder = try await server.submit(["tasks": [["name": "hold", "command": waitForFileCommand("go")]]])
            let holderID = try #require(holder["id"] as? String)
            try await server.waitForTask(holderID, "hold", status: "running")
            let waiting = try await server.submit([
                "tasks": [["name": "starved", "command": "touch \"$DIR/starved-ran\""]]
            ])
            let waitingID = try #require(waiting["id"] as? String)
            let cancel = try await server.client.post("/v1/runs/\(waitingID)/cancel")
            #expect(cancel.status == 202, "\(cancel)")
            let done = try await server.waitForRun(waitingID)
            #expect(done["status"] as? String == "cancelled", "\(done)")
            #expect(task(done, "starved")?["status"] as? String == "cancelled", "\(done)")
            try server.touch("go")
            let held = try await server.waitForRun(holderID)
            #expect(held["status"] as? String == "succeeded")
            #expect(!FileManager.default.fileExists(atPath: server.scratch.path("starved-ran")))
        }
    }

    /// SPEC §2: a cancel runs the `runalways` groups; a second cancel stops those too.
    @Test func firstCancelRunsTheCleanupGroupAndASecondCancelStopsIt() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "kill_grace_seconds": 1,
                "groups": [["name": "work"], ["name": "cleanup", "mode": "runalways"]],
                "tasks": [
                    ["name": "job", "group": "work", "command": Self.forkingCommand("job")],
                    ["name": "tidy", "group": "cleanup", "command": Self.forkingCommand("tidy")],
                ],
            ])
            let id = try #require(created["id"] as? String)
            let job = try await Self.pid(server, "job.shell")
            let first = try await server.client.post("/v1/runs/\(id)/cancel")
            #expect(first.status == 202, "\(first)")
            let tidy = try await Self.pid(server, "tidy.shell")
            let during = try await server.waitForTask(id, "tidy", status: "running")
            #expect(during["status"] as? String == "running")
            let state = try await server.run(id)
            #expect(state["status"] as? String == "running", "the run goes on while its cleanup runs: \(state)")
            #expect(task(state, "job")?["status"] as? String == "cancelled", "\(state)")
            try await Self.expectGone(groups: [job], leaders: [job])

            let second = try await server.client.post("/v1/runs/\(id)/cancel")
            #expect(second.status == 202, "a second cancel while the cleanup runs: \(second)")
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "cancelled", "\(done)")
            #expect(taskStatuses(done) == ["job": "cancelled", "tidy": "cancelled"], "\(done)")
            try await Self.expectGone(groups: [tidy], leaders: [tidy])
            expectProblem(try await server.client.post("/v1/runs/\(id)/cancel"), 409)
        }
    }
}
