import Foundation
import Glibc
import Testing

/// "No task process is ever left behind" (SPEC §2): a task's whole process group — orphaned
/// grandchildren and a child that ignores SIGTERM included — is gone once `baton run` has
/// exited, after a task timeout, a failfast, SIGINT and SIGTERM.
@Suite(.timeLimit(.minutes(1)))
struct ProcessCleanupTests {
    @Test func taskTimeoutKillsTheWholeProcessGroup() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "tree-timeout", "kill_grace_seconds": 0.5,
            "tasks": [["name": "tree", "timeout_seconds": 2, "command": ProcessTree.command("tree")]],
        ])
        let baton = try scratch.startRun(spec)
        try await scratch.waitForFile("tree.ready", while: baton)
        let tree = try ProcessTree.recorded("tree", in: scratch)
        let exit = try await baton.finish()
        let run = try RunOutput.decode(exit)
        #expect(exit.status == 1, "\(exit)")
        #expect(try run.task("tree").status == "timed_out")
        await ProcessTree.expectGone(tree, in: scratch)
    }

    @Test func failfastKillsTheWholeProcessGroup() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "tree-failfast", "mode": "failfast", "kill_grace_seconds": 0.5,
            "tasks": [
                ["name": "tree", "command": ProcessTree.command("tree")],
                ["name": "boom", "command": "while [ ! -f \"$DIR/go\" ]; do sleep 0.01; done; exit 1"],
            ],
        ])
        let baton = try scratch.startRun(spec)
        try await scratch.waitForFile("tree.ready", while: baton)
        let tree = try ProcessTree.recorded("tree", in: scratch)
        ProcessTree.expectAlive(tree, baton: baton)
        try scratch.write("go", "")
        let exit = try await baton.finish()
        let run = try RunOutput.decode(exit)
        #expect(exit.status == 1, "\(exit)")
        #expect(run.statuses == ["tree": "cancelled", "boom": "failed"])
        #expect(try run.task("tree").reason == "stopped: boom failed")
        await ProcessTree.expectGone(tree, in: scratch)
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func signalToBatonStopsAndRecordsEveryTask(signal: Int32, exitCode: Int32) async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "tree-signal", "kill_grace_seconds": 0.5,
            "groups": [["name": "work"], ["name": "cleanup", "mode": "runalways"]],
            "tasks": [
                ["name": "tree", "group": "work", "command": ProcessTree.command("tree")],
                ["name": "waiting", "group": "work", "depends_on": ["tree"], "command": "touch \"$DIR/waiting-ran\""],
                ["name": "cleanup", "group": "cleanup", "command": "touch \"$DIR/cleanup-ran\""],
            ],
        ])
        let baton = try scratch.startRun(spec)
        try await scratch.waitForFile("tree.ready", while: baton)
        let tree = try ProcessTree.recorded("tree", in: scratch)
        ProcessTree.expectAlive(tree, baton: baton)
        baton.send(signal)
        let exit = try await baton.finish()
        #expect(exit.status == exitCode, "\(exit)")
        await ProcessTree.expectGone(tree, in: scratch)

        let runs = try scratch.query("SELECT id, status FROM runs")
        #expect(runs.count == 1, "\(runs)")
        let runID = try #require(runs.first?["id"] as? String)
        #expect(runs.first?["status"] as? String == "cancelled")
        let stored = try scratch.storedTaskStatuses(runID: runID)
        #expect(stored["tree"] == "cancelled", "\(stored)")
        #expect(stored["waiting"] == "cancelled", "pending tasks are cancelled: \(stored)")
        #expect(stored["cleanup"] == "succeeded", "runalways runs after a first cancel: \(stored)")
        #expect(scratch.read("waiting-ran") == nil)
        #expect(scratch.read("cleanup-ran") != nil)
        // --json still prints the final run, as stored.
        let run = try RunOutput.decode(exit)
        #expect(run.id == runID)
        #expect(run.statuses == stored)
        #expect(try run.task("tree").reason != nil)
    }

    @Test func secondSignalStopsTheCleanupStageToo() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "tree-twice", "kill_grace_seconds": 0.5,
            "groups": [["name": "work"], ["name": "cleanup", "mode": "runalways"]],
            "tasks": [
                ["name": "tree", "group": "work", "command": ProcessTree.command("tree")],
                ["name": "cleanup tree", "group": "cleanup", "command": ProcessTree.command("cleanup")],
            ],
        ])
        let baton = try scratch.startRun(spec)
        try await scratch.waitForFile("tree.ready", while: baton)
        let tree = try ProcessTree.recorded("tree", in: scratch)
        baton.send(SIGINT)
        try await scratch.waitForFile("cleanup.ready", while: baton)
        let cleanup = try ProcessTree.recorded("cleanup", in: scratch)
        ProcessTree.expectAlive(cleanup, baton: baton)
        baton.send(SIGINT)
        let exit = try await baton.finish()
        #expect(exit.status == 130, "\(exit)")
        await ProcessTree.expectGone(tree, in: scratch)
        await ProcessTree.expectGone(cleanup, in: scratch)
        let run = try RunOutput.decode(exit)
        #expect(run.status == "cancelled")
        #expect(run.statuses == ["tree": "cancelled", "cleanup tree": "cancelled"])
    }
}
