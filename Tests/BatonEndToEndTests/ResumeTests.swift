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
            run.statuses == [
                "finished": "succeeded", "restartable": "succeeded", "fragile": "failed", "last": "succeeded",
            ])
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

    /// Regression: a second `baton run SPEC --data-dir D` started while the first runner is
    /// still alive took the live run for an interrupted one: it SIGKILLed the first runner's
    /// task and ran it again as attempt 2 (SPEC §5 resumes only when "the runner was killed").
    /// It must refuse (exit 2: the data dir is in use) or start a run of its own, and never
    /// touch the live runner's tasks.
    @Test func secondRunnerDoesNotHijackALiveRun() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "shared", "kill_grace_seconds": 0.5,
            "tasks": [
                [
                    "name": "work", "timeout_seconds": 60,
                    "command":
                        "echo \"$BATON_RUN_ID $BATON_ATTEMPT\" >> \"$DIR/starts\"; touch \"$DIR/ready.$BATON_ATTEMPT\"; "
                        + "while [ ! -f \"$DIR/release\" ]; do sleep 0.01; done",
                ]
            ],
        ])
        let first = try scratch.startRun(spec)
        try await scratch.waitForFile("ready.1", while: first)
        let firstRunID = try #require(scratch.lines("starts").first?.split(separator: " ").first.map(String.init))

        let second = try scratch.startRun(spec)
        // Either the second runner gives up at once, or its own task starts.
        try await waitUntil("the second runner to exit or start its task", within: .seconds(30)) {
            !second.isRunning || scratch.lines("starts").count >= 2
        }
        #expect(
            !scratch.lines("starts").contains("\(firstRunID) 2"),
            "the second runner restarted the live run's task: \(scratch.lines("starts"))")
        try scratch.write("release", "")

        let secondExit = try await second.finish()
        let firstExit = try await first.finish()
        #expect(firstExit.status == 0, "the first runner's task was killed under it: \(firstExit)")
        if let run = try? RunOutput.decode(firstExit) {
            #expect(run.id == firstRunID)
            #expect(run.statuses == ["work": "succeeded"])
            #expect(try run.task("work").attempt == 1)
        }
        if secondExit.status == 2 {
            #expect(secondExit.errorLines.count == 1, "one clear line: \(secondExit)")
        } else {
            #expect(secondExit.status == 0, "\(secondExit)")
            #expect((try? RunOutput.decode(secondExit))?.id != firstRunID, "the second runner took over the live run")
        }
    }
}
