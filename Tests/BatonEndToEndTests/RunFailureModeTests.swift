import Foundation
import Testing

/// Failure modes (SPEC §2): failfast, waitcurrent, waitall, runalways groups, critical and
/// forever tasks. Tasks synchronise on files they write and on the run database (a task
/// waits until Baton has recorded another one as failed), never on sleeps.
@Suite(.timeLimit(.minutes(1)))
struct RunFailureModeTests {
    /// A shell loop that waits until the database records task `name` with `status`.
    static func waitForStored(_ name: String, _ status: String) -> String {
        "until [ \"$(sqlite3 -readonly \"$DB\" \"SELECT status FROM tasks WHERE name = '\(name)'\" 2>/dev/null)\" = \(status) ]; do sleep 0.02; done"
    }

    /// A shell loop that waits for `$DIR/NAME`.
    static func waitForFile(_ name: String) -> String {
        "while [ ! -f \"$DIR/\(name)\" ]; do sleep 0.01; done"
    }

    @Test func failfastStopsRunningTasksAndSkipsTheRest() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "failfast",
            "mode": "failfast",
            "kill_grace_seconds": 1,
            "groups": [["name": "work"], ["name": "later"], ["name": "cleanup", "mode": "runalways"]],
            "tasks": [
                ["name": "slow", "group": "work", "command": "touch \"$DIR/slow.ready\"; sleep 1000"],
                ["name": "boom", "group": "work", "command": "\(Self.waitForFile("slow.ready")); exit 1"],
                ["name": "after slow", "group": "work", "depends_on": ["slow"], "command": "true"],
                ["name": "next", "group": "later", "command": "touch \"$DIR/next-ran\""],
                ["name": "cleanup", "group": "cleanup", "command": "true"],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        #expect(
            run.statuses == [
                "slow": "cancelled", "boom": "failed", "after slow": "skipped", "next": "skipped",
                "cleanup": "succeeded",
            ])
        let slow = try run.task("slow")
        #expect(slow.reason == "stopped: boom failed")
        #expect(slow.durationSeconds.map { $0 < 30 } == true, "slow was not stopped promptly")
        #expect(try run.task("boom").exitCode == 1)
        #expect(try run.task("next").reason == "not started: boom failed")
        #expect(scratch.read("next-ran") == nil)
        #expect(try run.task("cleanup").started() >= run.task("boom").finished())
    }

    @Test func waitcurrentLetsRunningTasksFinishAndSkipsTheRest() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "waitcurrent",
            "mode": "waitcurrent",
            "env": ["DB": scratch.database, "DIR": scratch.directory.path],
            "groups": [["name": "work"], ["name": "later"], ["name": "cleanup", "mode": "runalways"]],
            "tasks": [
                [
                    "name": "slow", "group": "work",
                    "command": "touch \"$DIR/slow.ready\"; \(Self.waitForStored("boom", "failed")); echo finished",
                ],
                ["name": "boom", "group": "work", "command": "\(Self.waitForFile("slow.ready")); exit 1"],
                ["name": "after slow", "group": "work", "depends_on": ["slow"], "command": "touch \"$DIR/after-ran\""],
                ["name": "next", "group": "later", "command": "touch \"$DIR/next-ran\""],
                ["name": "cleanup", "group": "cleanup", "command": "true"],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        #expect(
            run.statuses == [
                "slow": "succeeded", "boom": "failed", "after slow": "skipped", "next": "skipped",
                "cleanup": "succeeded",
            ])
        #expect(try scratch.log(run, task: "slow") == "finished\n")
        #expect(try run.task("next").reason == "not started: boom failed")
        #expect(scratch.read("after-ran") == nil)
        #expect(scratch.read("next-ran") == nil)
        #expect(try run.task("cleanup").started() >= run.task("slow").finished())
    }

    @Test func waitallRunsEverythingExceptDependentsOfTheFailure() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "waitall",
            "mode": "waitall",
            "env": ["DB": scratch.database, "DIR": scratch.directory.path],
            "groups": [["name": "work"], ["name": "steps", "strategy": "sequential"], ["name": "later"]],
            "tasks": [
                ["name": "boom", "group": "work", "command": "exit 1"],
                ["name": "slow", "group": "work", "command": "\(Self.waitForStored("boom", "failed")); echo finished"],
                ["name": "after slow", "group": "work", "depends_on": ["slow"], "command": "true"],
                ["name": "after boom", "group": "work", "depends_on": ["boom"], "command": "true"],
                ["name": "step 1", "group": "steps", "command": "exit 2"],
                ["name": "step 2", "group": "steps", "command": "true"],
                ["name": "next", "group": "later", "command": "true"],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        #expect(
            run.statuses == [
                "boom": "failed", "slow": "succeeded", "after slow": "succeeded", "after boom": "skipped",
                "step 1": "failed", "step 2": "succeeded", "next": "succeeded",
            ])
        #expect(try run.task("after boom").reason == "upstream failed: boom")
        #expect(try run.task("step 1").exitCode == 2)
        #expect(try run.task("step 2").started() >= run.task("step 1").finished())
    }

    @Test func runalwaysGroupRunsAfterAFailureOnceEarlierGroupsEnded() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "runalways",
            "mode": "waitcurrent",
            "groups": [
                ["name": "work"], ["name": "middle"],
                ["name": "cleanup", "mode": "runalways", "strategy": "sequential"],
            ],
            "tasks": [
                ["name": "boom", "group": "work", "command": "exit 1"],
                ["name": "middle", "group": "middle", "command": "true"],
                ["name": "clean 1", "group": "cleanup", "command": "echo one >> \"$DIR/cleanup\""],
                ["name": "clean 2", "group": "cleanup", "command": "echo two >> \"$DIR/cleanup\""],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(
            run.statuses == ["boom": "failed", "middle": "skipped", "clean 1": "succeeded", "clean 2": "succeeded"])
        #expect(scratch.lines("cleanup") == ["one", "two"])
        #expect(try run.task("clean 1").started() >= run.task("boom").finished())
    }

    @Test func criticalTaskStopsAWaitallRun() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "critical",
            "mode": "waitall",
            "kill_grace_seconds": 1,
            "groups": [["name": "work"], ["name": "later"]],
            "tasks": [
                ["name": "slow", "group": "work", "command": "touch \"$DIR/slow.ready\"; sleep 1000"],
                [
                    "name": "crit", "group": "work", "critical": true,
                    "command": "\(Self.waitForFile("slow.ready")); exit 1",
                ],
                ["name": "after slow", "group": "work", "depends_on": ["slow"], "command": "true"],
                ["name": "next", "group": "later", "command": "touch \"$DIR/next-ran\""],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        #expect(run.statuses == ["slow": "cancelled", "crit": "failed", "after slow": "skipped", "next": "skipped"])
        #expect(try run.task("slow").reason == "stopped: crit failed")
        #expect(scratch.read("next-ran") == nil)
    }

    @Test func foreverTaskIsStoppedAtEndOfRunAndTheRunSucceeds() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "forever",
            "kill_grace_seconds": 1,
            "tasks": [
                ["name": "service", "forever": true, "command": ProcessTree.command("service")],
                ["name": "client", "command": "\(Self.waitForFile("service.ready")); echo used the service"],
                ["name": "after client", "depends_on": ["client"], "command": "true"],
            ],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.status == "succeeded")
        let service = try run.task("service")
        #expect(service.reason == "stopped at end of run")
        #expect(service.status == "cancelled")
        #expect(try run.task("client").status == "succeeded")
        #expect(try run.task("after client").status == "succeeded")
        await ProcessTree.expectGone(try ProcessTree.recorded("service", in: scratch), in: scratch)
    }

    /// README: forever tasks hold no worker slot and no `max_parallel` place (a service must
    /// not deadlock a window of 1); their dependents count them done once they started.
    @Test func foreverTaskHoldsNoPlaceInAWindowOfOne() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(
            spec: [
                "name": "forever-window",
                "max_parallel": 1,
                "kill_grace_seconds": 1,
                "tasks": [
                    ["name": "service", "forever": true, "command": "touch \"$DIR/service.ready\"; sleep 1000"],
                    ["name": "client", "command": "\(Self.waitForFile("service.ready")); echo used the service"],
                    ["name": "after service", "depends_on": ["service"], "command": "true"],
                ],
            ], extra: ["--workers", "1"], within: .seconds(30))
        #expect(exit.status == 0, "\(exit)")
        #expect(run.statuses == ["service": "cancelled", "client": "succeeded", "after service": "succeeded"])
        #expect(try run.task("service").reason == "stopped at end of run")
    }
}
