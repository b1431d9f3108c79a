import Foundation
import Testing

/// Task timeouts and their hooks, retries, and the run deadline (SPEC §1, §2).
@Suite(.timeLimit(.minutes(1)))
struct RunTimeoutRetryTests {
    @Test func taskTimeoutKillsTheTaskAndRunsOnTimeout() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "task-timeout",
            "mode": "waitall",
            "kill_grace_seconds": 0.5,
            "tasks": [
                [
                    "name": "stuck", "timeout_seconds": 1, "command": "echo started; sleep 1000",
                    "on_timeout": "echo \"hook ran for $BATON_TASK\"",
                ],
                [
                    "name": "stuck argv", "timeout_seconds": 1, "command": ["sleep", "1000"],
                    "on_timeout": ["printf", "%s\\n", "argv hook ran"],
                ],
                ["name": "quick", "timeout_seconds": 1, "command": "echo quick"],
            ],
        ])
        #expect(exit.status == 1, "a task timeout fails the run (not timed_out): \(exit)")
        #expect(run.status == "failed")
        #expect(run.statuses == ["stuck": "timed_out", "stuck argv": "timed_out", "quick": "succeeded"])
        let stuck = try run.task("stuck")
        #expect(stuck.reason == "timeout after 1s")
        #expect(
            stuck.durationSeconds.map { $0 >= 0.9 && $0 < 30 } == true,
            "duration \(String(describing: stuck.durationSeconds))")
        let log = try scratch.log(run, task: "stuck")
        #expect(log.hasPrefix("started\n"), "\(log)")
        #expect(log.contains("hook ran for stuck"), "\(log)")
        #expect(try scratch.log(run, task: "stuck argv").contains("argv hook ran\n"))
    }

    @Test func taskTimeoutZeroDisablesTheTimeout() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "no-timeout", "tasks": [["name": "t", "timeout_seconds": 0, "command": "sleep 0.3"]],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(try run.task("t").status == "succeeded")
    }

    @Test func retriesHonourRetryExitCodesAndBatonAttempt() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "retries",
            "mode": "waitall",
            "kill_grace_seconds": 0.5,
            "tasks": [
                [
                    "name": "third time lucky", "retries": 3, "retry_exit_codes": [75], "retry_delay_seconds": 0.2,
                    "command": "echo \"attempt $BATON_ATTEMPT\"; [ \"$BATON_ATTEMPT\" -ge 3 ] || exit 75",
                ],
                [
                    "name": "not retryable", "retries": 3, "retry_exit_codes": [75],
                    "command": "echo \"attempt $BATON_ATTEMPT\"; exit 1",
                ],
                ["name": "always fails", "retries": 2, "command": "echo \"attempt $BATON_ATTEMPT\"; exit 4"],
                [
                    "name": "timeout not retryable", "retries": 2, "retry_exit_codes": [75], "timeout_seconds": 0.5,
                    "command": "sleep 1000",
                ],
                [
                    "name": "timeout then ok", "retries": 1, "timeout_seconds": 1,
                    "command": "echo \"attempt $BATON_ATTEMPT\"; [ \"$BATON_ATTEMPT\" -ge 2 ] || sleep 1000",
                ],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(
            run.statuses == [
                "third time lucky": "succeeded", "not retryable": "failed", "always fails": "failed",
                "timeout not retryable": "timed_out", "timeout then ok": "succeeded",
            ])
        #expect(try run.task("timeout not retryable").attempt == 1, "a timeout has no exit code to match")
        let lucky = try run.task("third time lucky")
        #expect(lucky.attempt == 3)
        #expect(lucky.exitCode == 0)
        for attempt in 1...3 {
            #expect(try scratch.log(run, task: "third time lucky", attempt: attempt) == "attempt \(attempt)\n")
        }
        let notRetryable = try run.task("not retryable")
        #expect(notRetryable.attempt == 1)
        #expect(notRetryable.exitCode == 1)
        #expect(try scratch.log(run, task: "not retryable") == "attempt 1\n")
        let alwaysFails = try run.task("always fails")
        #expect(alwaysFails.attempt == 3)
        #expect(alwaysFails.exitCode == 4)
        #expect(try scratch.log(run, task: "always fails", attempt: 3) == "attempt 3\n")
        let timeoutThenOK = try run.task("timeout then ok")
        #expect(timeoutThenOK.attempt == 2)
        #expect(try scratch.log(run, task: "timeout then ok", attempt: 2) == "attempt 2\n")

        // The attempts as stored: each retry waited retry_delay_seconds after the previous end.
        let rows = try scratch.query(
            "SELECT a.attempt, a.started_at, a.finished_at, a.exit_code FROM attempts a JOIN tasks t "
                + "ON a.run_id = t.run_id AND a.task_idx = t.idx WHERE t.name = 'third time lucky' ORDER BY a.attempt")
        #expect(rows.count == 3, "\(rows)")
        for (previous, next) in zip(rows, rows.dropFirst()) {
            let ended = previous["finished_at"] as? Double ?? .infinity
            let started = next["started_at"] as? Double ?? 0
            #expect(started - ended >= 0.19, "retry after \(started - ended)s, delay is 0.2s")
        }
        #expect(rows.map { $0["exit_code"] as? Int } == [75, 75, 0])
    }

    @Test func runTimeoutKillsEverythingAndEndsTimedOut() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "run-timeout",
            "timeout_seconds": 1,
            "kill_grace_seconds": 0.5,
            "groups": [["name": "work"], ["name": "cleanup", "mode": "runalways"]],
            "tasks": [
                ["name": "tree", "group": "work", "command": ProcessTree.command("tree")],
                ["name": "after tree", "group": "work", "depends_on": ["tree"], "command": "true"],
                ["name": "cleanup", "group": "cleanup", "command": "echo cleaned"],
            ],
        ])
        #expect(exit.status == 3, "\(exit)")
        #expect(run.status == "timed_out")
        let tree = try run.task("tree")
        #expect(tree.status == "cancelled")
        #expect(tree.reason == "run timeout after 1s")
        let afterTree = try run.task("after tree")
        #expect(afterTree.status == "skipped")
        #expect(afterTree.reason == "run timed out")
        #expect(try run.task("cleanup").status == "succeeded", "runalways runs after a run timeout")
        let runTime = try Timestamps.parse(run.finishedAt, "finished_at").timeIntervalSince(
            Timestamps.parse(run.startedAt, "started_at"))
        #expect(runTime >= 0.9 && runTime < 30, "run took \(runTime)s with a 1s deadline")
        await ProcessTree.expectGone(try ProcessTree.recorded("tree", in: scratch), in: scratch)
    }

    @Test func retryBackoffIsExponentialAndCapped() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "backoff",
            "tasks": [
                [
                    "name": "flaky", "retries": 3, "retry_delay_seconds": 0.3, "retry_backoff": "exponential",
                    "retry_max_delay_seconds": 0.5, "command": "[ \"$BATON_ATTEMPT\" -ge 4 ] || exit 1",
                ]
            ],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(try run.task("flaky").attempt == 4)
        let rows = try scratch.query(
            "SELECT a.started_at, a.finished_at FROM attempts a JOIN tasks t "
                + "ON a.run_id = t.run_id AND a.task_idx = t.idx WHERE t.name = 'flaky' ORDER BY a.attempt")
        #expect(rows.count == 4, "\(rows)")
        let gaps = zip(rows, rows.dropFirst()).map { previous, next in
            (next["started_at"] as? Double ?? 0) - (previous["finished_at"] as? Double ?? .infinity)
        }
        // 0.3, then 0.6 and 1.2 capped to 0.5. Lower bounds exact; upper bounds generous but
        // below the uncapped 1.2 s.
        #expect(gaps.count == 3)
        if gaps.count == 3 {
            #expect(gaps[0] >= 0.29, "\(gaps)")
            #expect(gaps[1] >= 0.49, "\(gaps)")
            #expect(gaps[2] >= 0.49 && gaps[2] < 1.15, "third delay not capped at 0.5s: \(gaps)")
        }
    }

    @Test func killGraceSecondsSeparatesSigtermFromSigkill() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "grace",
            "kill_grace_seconds": 1,
            "tasks": [
                [
                    "name": "stubborn", "timeout_seconds": 0.5,
                    "command": "trap 'echo got TERM' TERM; echo started; while :; do sleep 0.05; done",
                ]
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        let stubborn = try run.task("stubborn")
        #expect(stubborn.status == "timed_out")
        #expect(stubborn.signal == 9, "SIGKILL after the grace")
        let duration = stubborn.durationSeconds ?? 0
        #expect(duration >= 1.45 && duration < 30, "timeout 0.5s + grace 1s, took \(duration)s")
        let log = try scratch.log(run, task: "stubborn")
        #expect(log.hasPrefix("started\n") && log.contains("got TERM\n"), "\(log)")
    }
}
