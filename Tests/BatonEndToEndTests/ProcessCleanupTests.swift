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
        #expect(try run.task("tree").reason == "cancelled by client")
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

    @Test func finishedTaskLeavesNoBackgroundJobBehind() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "background",
            "tasks": [
                [
                    "name": "leaky",
                    "command":
                        "sleep 1000 & echo $! > \"$DIR/bg.pid\"; (sleep 1000 &); cut -d' ' -f5 /proc/$$/stat > \"$DIR/bg.pgid\"; echo done",
                ]
            ],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(try run.task("leaky").status == "succeeded")
        let pid = try #require(
            scratch.read("bg.pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let pgid = try #require(
            scratch.read("bg.pgid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        await ProcessTree.expectGone(ProcessTree.Recorded(pids: [pid], pgid: pgid), in: scratch)
    }

    /// SPEC §2: no task process is left behind as a zombie while Baton runs.
    @Test func endedTasksAndHooksAreReapedWhileTheRunGoesOn() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "reaping", "kill_grace_seconds": 0.5,
            "env": ["DIR": scratch.directory.path, "DB": scratch.database],
            "tasks": [
                ["name": "quick", "command": "true"],
                ["name": "failing", "command": "exit 3"],
                ["name": "slow to die", "timeout_seconds": 0.3, "on_timeout": "echo hook", "command": "sleep 1000"],
                [
                    "name": "holder",
                    "command": "\(RunFailureModeTests.waitForStored("quick", "succeeded")); "
                        + "\(RunFailureModeTests.waitForStored("failing", "failed")); "
                        + "\(RunFailureModeTests.waitForStored("slow to die", "timed_out")); touch \"$DIR/holder.ready\"; "
                        + "while [ ! -f \"$DIR/release\" ]; do sleep 0.01; done",
                ],
            ],
        ])
        let baton = try scratch.startRun(spec, extra: ["--workers", "8"])
        try await scratch.waitForFile("holder.ready", while: baton)
        // Everything but "holder" has ended and was recorded: none may linger as a zombie.
        do {
            try await waitUntil("Baton to reap its children", within: .seconds(5)) {
                ProcessTable.allPIDs().compactMap(ProcessTable.entry).allSatisfy {
                    !($0.ppid == baton.pid && $0.isZombie)
                }
            }
        } catch {
            let zombies = ProcessTable.allPIDs().compactMap(ProcessTable.entry).filter {
                $0.ppid == baton.pid && $0.isZombie
            }
            Issue.record("zombie children of baton: \(zombies)")
        }
        try scratch.write("release", "")
        let exit = try await baton.finish()
        #expect(exit.status == 1, "\(exit)")
        let run = try RunOutput.decode(exit)
        #expect(
            run.statuses == [
                "quick": "succeeded", "failing": "failed", "slow to die": "timed_out", "holder": "succeeded",
            ])
    }
}
