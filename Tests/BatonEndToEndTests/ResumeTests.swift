import Foundation
import Glibc
import Testing

/// `baton run SPEC --data-dir D` after the runner was killed with SIGKILL resumes the
/// unfinished run as the server would (SPEC §3, §5).
@Suite(.timeLimit(.minutes(1)))
struct ResumeTests {
    @Test func resumeAfterSigkillRestartsRestartableTasksAndFailsTheOthers() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        // Attempt 1 of "restartable" builds a tree and hangs; any later attempt finishes.
        let restartable = """
            echo "attempt $BATON_ATTEMPT" >> "$DIR/restartable.attempts"
            if [ "$BATON_ATTEMPT" = 1 ]; then
            \(ProcessTree.command("restartable"))
            fi
            echo "restarted as attempt $BATON_ATTEMPT"
            """
        let spec = try scratch.writeSpec([
            "name": "resume", "mode": "waitall", "kill_grace_seconds": 0.5,
            "tasks": [
                ["name": "finished", "command": "echo ran >> \"$DIR/finished.count\""],
                ["name": "restartable", "depends_on": ["finished"], "command": restartable],
                [
                    "name": "fragile", "depends_on": ["finished"], "restartable": false,
                    "command": ProcessTree.command("fragile"),
                ],
                ["name": "last", "depends_on": ["restartable"], "command": "echo last"],
            ],
        ])

        let first = try scratch.startRun(spec)
        try await scratch.waitForFile("restartable.ready", while: first)
        try await scratch.waitForFile("fragile.ready", while: first)
        let oldRestartable = try ProcessTree.recorded("restartable", in: scratch)
        let oldFragile = try ProcessTree.recorded("fragile", in: scratch)
        let runs = try scratch.query("SELECT id, status FROM runs")
        let runID = try #require(runs.first?["id"] as? String, "\(runs)")
        first.send(SIGKILL)
        let killed = try await first.finish()
        #expect(killed.signal == SIGKILL)
        // Whether the orphaned tasks outlive the runner is not specified; resuming must
        // clean them up either way.
        let stored = try scratch.storedTaskStatuses(runID: runID)
        #expect(stored == ["finished": "succeeded", "restartable": "running", "fragile": "running", "last": "pending"])

        let (exit, run) = try await scratch.run(spec, extra: [])
        #expect(exit.status == 1, "the non-restartable task failed: \(exit)")
        #expect(run.id == runID, "resumed the same run")
        #expect(try scratch.query("SELECT id FROM runs").count == 1)
        #expect(
            run.statuses == ["finished": "succeeded", "restartable": "succeeded", "fragile": "failed", "last": "succeeded"])
        let finished = try run.task("finished")
        #expect(finished.attempt == 1)
        #expect(scratch.lines("finished.count") == ["ran"], "the finished task did not run again")
        let resumed = try run.task("restartable")
        #expect(resumed.attempt == 2)
        #expect(scratch.lines("restartable.attempts") == ["attempt 1", "attempt 2"])
        #expect(try scratch.log(run, task: "restartable", attempt: 2) == "restarted as attempt 2\n")
        let fragile = try run.task("fragile")
        #expect(fragile.reason == "interrupted by server restart")
        #expect(fragile.attempt == 1)
        #expect(exit.stderr.contains("resuming"), "\(exit)")

        // The previous runner's process groups were killed, not left running.
        await ProcessTree.expectGone(oldRestartable, in: scratch)
        await ProcessTree.expectGone(oldFragile, in: scratch)
    }

    @Test func rerunOfAFinishedSpecStartsANewRun() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "again", "tasks": [["name": "t", "command": "echo ran >> \"$DIR/count\""]],
        ])
        let (_, first) = try await scratch.run(spec)
        let (exit, second) = try await scratch.run(spec)
        #expect(exit.status == 0, "\(exit)")
        #expect(first.id != second.id)
        #expect(scratch.lines("count") == ["ran", "ran"])
        #expect(try scratch.query("SELECT id FROM runs").count == 2)
    }
}
