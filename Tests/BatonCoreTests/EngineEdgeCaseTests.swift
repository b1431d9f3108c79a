import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// Interactions between rules, and the executor's side of the contract.
@Suite struct EngineEdgeCaseTests {
    @Test func waitcurrentDoesNotRetryTasksItIsWaitingFor() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .waitcurrent, tasks: [Fx.task("bad"), Fx.task("flaky", retries: 3)]))
        h.exit("bad", code: 1)
        h.exit("flaky", code: 1)
        #expect(h.status("flaky") == .failed)
        #expect(h.spawns(of: "flaky").count == 1)
        #expect(h.runStatus() == .failed)
    }

    @Test func criticalTaskUsesItsRetriesBeforeStoppingTheRun() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .waitall, tasks: [Fx.task("key", retries: 1, critical: true), Fx.task("other")]))
        h.exit("key", code: 1)
        #expect(h.signals.isEmpty)
        h.exit("key", code: 1)
        #expect(h.signals(of: "other") == [.terminate])
    }

    @Test func taskDeadlineDuringAFailfastStopKeepsTheStopReason() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(
            WorkflowSpec(
                mode: .failfast, killGraceSeconds: 10,
                tasks: [Fx.task("bad"), Fx.task("slow", timeout: 5)]))
        h.advance(to: 1)
        h.exit("bad", code: 1)
        h.advance(to: 5)
        h.kill("slow", signal: 15)
        #expect(h.status("slow") == .cancelled)
        #expect(h.reason("slow") == "stopped: bad failed")
    }

    @Test func cancelDuringAnOnTimeoutHookStopsTheHookAndTheTaskStaysTimedOut() {
        var h = EngineHarness()
        h.add(WorkflowSpec(killGraceSeconds: 1, tasks: [Fx.task("t", timeout: 5, onTimeout: .shell("hook"))]))
        h.advance(to: 5)
        h.kill("t", signal: 15)
        #expect(h.spawns(of: "t").last?.isTimeoutHook == true)
        h.cancel()
        #expect(h.signals(of: "t") == [.terminate, .terminate])
        h.advance(by: 1)
        #expect(h.status("t") == .timedOut)
        #expect(h.runStatus() == .cancelled)
    }

    @Test func secondCancelDuringATimeoutStopSkipsTheHook() {
        var h = EngineHarness()
        h.add(WorkflowSpec(killGraceSeconds: 10, tasks: [Fx.task("t", timeout: 5, onTimeout: .shell("hook"))]))
        h.advance(to: 5)
        h.cancel()
        h.cancel()
        h.kill("t", signal: 15)
        #expect(h.spawns(of: "t").count == 1)
        #expect(h.status("t") == .timedOut)
        #expect(h.runStatus() == .cancelled)
    }

    @Test func hookThatCannotBeSpawnedStillEndsTheTaskTimedOut() {
        var h = EngineHarness()
        h.add(WorkflowSpec(killGraceSeconds: 1, tasks: [Fx.task("t", timeout: 5, onTimeout: .argv(["/nope"]))]))
        h.advance(to: 6)
        #expect(h.spawns(of: "t").last?.isTimeoutHook == true)
        h.spawnFailed("t", message: "/nope: No such file or directory")
        #expect(h.status("t") == .timedOut)
        #expect(h.reason("t") == "timeout after 5s")
        #expect(h.engine.busy == 0)
    }

    @Test func foreverTaskIsNotKilledByTheTaskTimeout() {
        // A service is meant to outlive `timeout_seconds` (default 300): only the end of
        // the run, a failure mode, a cancel or the run deadline stops it.
        var h = EngineHarness()
        h.add(
            WorkflowSpec(tasks: [
                TaskSpec(name: "db", command: .shell("postgres"), forever: true),
                TaskSpec(name: "suite", command: .shell("make test"), timeoutSeconds: 0),
            ]))
        h.advance(by: 3600)
        #expect(h.signals(of: "db").isEmpty)
        #expect(h.status("db") == .running)
        h.exit("suite")
        h.advance(by: 10)
        #expect(h.status("db") == .cancelled)
        #expect(h.reason("db") == "stopped at end of run")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func duplicateAndUnknownExitsAreIgnored() {
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(tasks: [Fx.task("a"), Fx.task("b")]))
        let a = h.ref("a")
        h.exit("a")
        #expect(h.engine.busy == 1)
        h.engine.processExited(a, exitCode: 1, signal: nil, now: h.now)
        h.engine.processExited(TaskRef(runID: "nope", task: 0), exitCode: 0, signal: nil, now: h.now)
        h.engine.spawnFailed(a, message: "late", now: h.now)
        #expect(h.engine.takeActions().isEmpty)
        #expect(h.engine.busy == 1)
        #expect(h.status("a") == .succeeded)
        h.exit("b")
        #expect(h.runStatus() == .succeeded)
        #expect(h.engine.busy == 0)
    }

    @Test func finishedRunsAreForgottenAndNewRunsStillScheduled() {
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(tasks: [Fx.task("a")]), runID: "one")
        h.add(WorkflowSpec(tasks: [Fx.task("b")]), runID: "two")
        h.exit("a", run: "one")
        h.engine.removeFinishedRuns()
        #expect(h.engine.runs["one"] == nil)
        #expect(h.engine.runs["two"] != nil)
        h.add(WorkflowSpec(tasks: [Fx.task("c")]), runID: "three")
        h.exit("b", run: "two")
        #expect(h.isLive("c", run: "three"))
        h.exit("c", run: "three")
        h.engine.removeFinishedRuns()
        #expect(h.engine.runs.isEmpty)
        #expect(h.engine.nextWake == nil)
    }

    @Test func nextWakeIsTheEarliestOverAllRuns() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a", timeout: 50)]), runID: "one")
        h.add(WorkflowSpec(timeoutSeconds: 20, tasks: [Fx.task("b", timeout: 100)]), runID: "two")
        #expect(h.nextWake == 20)
        h.advance(to: 20)
        #expect(h.signals(of: "b", run: "two") == [.terminate])
        #expect(h.nextWake == 30)  // b's SIGKILL after the 10 s grace
        h.kill("b", signal: 15, run: "two")
        #expect(h.nextWake == 50)
    }

    @Test func stallSafetyNetReportsAndEndsARunThatCanNeverProgress() {
        // A dependency on a task listed later in the same sequential group can never be
        // met (the spec validator is expected to reject it); the engine must say so.
        var h = EngineHarness()
        h.failOnStall = false
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "s", strategy: .sequential)],
                tasks: [Fx.task("first", group: "s", after: ["second"]), Fx.task("second", group: "s")]))
        #expect(h.engine.stalledRuns == ["r1"])
        h.engine.abortStalled(runID: "r1", now: h.now)
        #expect(h.status("first") == .skipped)
        #expect(h.reason("first") == "internal error: scheduler stalled")
        #expect(h.runStatus() == .failed)
        #expect(h.engine.stalledRuns.isEmpty)
    }

    @Test func dependencyOnASkippedTaskOfTheSameRunalwaysGroupIsSkipped() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .failfast,
                groups: [GroupSpec(name: "work"), GroupSpec(name: "cleanup", mode: .runalways)],
                tasks: [
                    Fx.task("bad", group: "work"), Fx.task("deploy", group: "work", after: ["bad"]),
                    Fx.task("rollback", group: "cleanup", after: ["deploy"]),
                    Fx.task("always", group: "cleanup", after: ["deploy"], trigger: .allDone),
                ]))
        h.exit("bad", code: 1)
        #expect(h.status("deploy") == .skipped)
        #expect(h.status("rollback") == .skipped)
        #expect(h.reason("rollback") == "upstream failed: bad")
        #expect(h.liveNames() == ["always"])
    }
}
