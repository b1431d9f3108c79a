import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 run deadline, cancel, forever tasks and run status rules.
@Suite struct EngineRunLifecycleTests {
    // MARK: Run status

    @Test func runSucceedsWhenEveryTaskSucceeded() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: Fx.chain(3)))
        #expect(h.runStatus() == .running)
        h.runAll()
        #expect(h.runStatus() == .succeeded)
        #expect(h.finished == ["r1": .succeeded])
        #expect(h.engine.runs["r1"]?.runUpdate.finishedAt == h.now)
    }

    @Test func runFailsWhenATaskFailed() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .waitall, tasks: Fx.wide(3)))
        h.runAll { $0.taskName == "t1" ? 1 : 0 }
        #expect(h.runStatus() == .failed)
    }

    @Test func taskTimeoutMakesTheRunFailedNotTimedOut() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", timeout: 1)]))
        h.advance(by: 20)
        #expect(h.status("t") == .timedOut)
        #expect(h.runStatus() == .failed)
    }

    // MARK: Run deadline

    @Test func runDeadlineStopsRunningTasksAndEndsTimedOut() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(
            WorkflowSpec(
                timeoutSeconds: 30, killGraceSeconds: 4,
                tasks: [Fx.task("a"), Fx.task("b", after: ["a"]), Fx.task("quick")]))
        h.advance(by: 1)
        h.exit("quick")
        #expect(h.nextWake == 30)
        h.advance(to: 30)
        #expect(h.signals(of: "a") == [.terminate])
        #expect(h.status("b") == .skipped)
        #expect(h.reason("b") == "run timed out")
        #expect(h.runStatus() == .running)
        h.advance(to: 34)
        #expect(h.signals(of: "a") == [.terminate, .kill])
        h.kill("a", signal: 9)
        #expect(h.status("a") == .cancelled)
        #expect(h.reason("a") == "run timeout after 30s")
        #expect(h.status("quick") == .succeeded)
        #expect(h.runStatus() == .timedOut)
        #expect(h.engine.runs["r1"]?.runUpdate.deadlineHit == true)
    }

    @Test func runDeadlineWinsOverTaskFailuresForTheRunStatus() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(mode: .waitall, timeoutSeconds: 10, tasks: [Fx.task("bad"), Fx.task("slow")]))
        h.exit("bad", code: 1)
        h.advance(by: 10)
        #expect(h.runStatus() == .timedOut)
    }

    // MARK: Cancel

    @Test func cancelStopsRunningTasksAndCancelsPendingOnes() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(
            WorkflowSpec(
                killGraceSeconds: 10,
                tasks: [Fx.task("a"), Fx.task("b", after: ["a"]), Fx.task("c", after: ["b"])]))
        h.advance(by: 2)
        let accepted = h.cancel()
        #expect(accepted)
        #expect(h.signals(of: "a") == [.terminate])
        for name in ["b", "c"] {
            #expect(h.status(name) == .cancelled, "\(name)")
            #expect(h.reason(name) == "cancelled by client", "\(name)")
        }
        #expect(h.runStatus() == .running)
        h.advance(by: 10)
        #expect(h.signals(of: "a") == [.terminate, .kill])
        h.kill("a", signal: 9)
        #expect(h.status("a") == .cancelled)
        #expect(h.reason("a") == "cancelled by client")
        #expect(h.runStatus() == .cancelled)
        #expect(h.engine.runs["r1"]?.runUpdate.cancelRequests == 1)
    }

    @Test func cancelledPendingTasksDoNotSkipTheirDependents() {
        // Regression: cancelling a pending task released its dependents as
        // "skipped: upstream failed" before the cancel reached them.
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(tasks: [Fx.task("first"), Fx.task("x"), Fx.task("y", after: ["x"])]))
        h.cancel()
        #expect(h.status("x") == .cancelled)
        #expect(h.status("y") == .cancelled)
        #expect(h.reason("y") == "cancelled by client")
    }

    @Test func cancelOfAFinishedRunReturnsFalse() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a")]))
        h.exit("a")
        #expect(h.runStatus() == .succeeded)
        let acceptedAfterEnd = h.cancel()
        #expect(!acceptedAfterEnd)
        #expect(h.runStatus() == .succeeded)
        #expect(h.engine.runs["r1"]?.runUpdate.cancelRequests == 0)
        let acceptedUnknown = h.cancel(run: "unknown")
        #expect(!acceptedUnknown)
    }

    @Test func cancelWhileAFailfastTeardownIsUnderWayEndsCancelled() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .failfast, tasks: [Fx.task("bad"), Fx.task("other")]))
        h.exit("bad", code: 1)
        h.cancel()
        #expect(h.signals(of: "other") == [.terminate])
        h.kill("other", signal: 15)
        #expect(h.reason("other") == "stopped: bad failed")
        #expect(h.runStatus() == .cancelled)
    }

    @Test func cancelAfterWaitcurrentStopsTheTasksItWasWaitingFor() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .waitcurrent, tasks: [Fx.task("bad"), Fx.task("other")]))
        h.exit("bad", code: 1)
        #expect(h.signals(of: "other").isEmpty)
        h.cancel()
        #expect(h.signals(of: "other") == [.terminate])
        h.kill("other", signal: 15)
        #expect(h.status("other") == .cancelled)
        #expect(h.reason("other") == "cancelled by client")
        #expect(h.runStatus() == .cancelled)
    }

    // MARK: Forever tasks

    @Test func runDoesNotWaitForForeverTasksAndStopsThemAtTheEnd() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("server", forever: true), Fx.task("client")]))
        #expect(h.liveNames() == ["client", "server"])
        h.exit("client")
        #expect(h.signals(of: "server") == [.terminate])
        #expect(h.runStatus() == .running)
        h.kill("server", signal: 15)
        #expect(h.status("server") == .cancelled)
        #expect(h.reason("server") == "stopped at end of run")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func foreverTaskReleasesItsDependentsOnceStarted() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "services"), GroupSpec(name: "tests")],
                tasks: [
                    Fx.task("db", group: "services", forever: true),
                    Fx.task("migrate", after: ["db"]), Fx.task("suite", group: "tests"),
                ]))
        #expect(h.liveNames() == ["db", "migrate", "suite"])
    }

    @Test func foreverTasksHoldNoPoolSlot() {
        var h = EngineHarness(workers: 1)
        h.add(
            WorkflowSpec(
                maxParallel: 1,
                tasks: [Fx.task("s1", forever: true), Fx.task("s2", forever: true), Fx.task("a"), Fx.task("b")]))
        #expect(h.liveNames() == ["a", "s1", "s2"])
        #expect(h.engine.busy == 1)
        h.exit("a")
        #expect(h.liveNames() == ["b", "s1", "s2"])
    }

    @Test func runWithForeverTasksSucceedsWhenEveryOtherTaskSucceeded() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(tasks: [Fx.task("svc", forever: true), Fx.task("a"), Fx.task("b", after: ["a"])]))
        h.exit("a")
        h.exit("b")
        #expect(h.status("svc") == .cancelled)
        #expect(h.runStatus() == .succeeded)
    }

    @Test func foreverTaskThatCrashesAppliesItsFailureMode() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .failfast, tasks: [Fx.task("svc", forever: true), Fx.task("a")]))
        h.exit("svc", code: 1)
        #expect(h.status("svc") == .failed)
        #expect(h.signals(of: "a") == [.terminate])
        h.advance(by: 10)
        #expect(h.runStatus() == .failed)
    }

    @Test func foreverTaskNotStartedWhenTheRunEndsIsSkipped() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [Fx.task("a"), Fx.task("svc", after: ["a"], forever: true), Fx.task("b")]))
        h.exit("b")
        h.exit("a", code: 1)
        #expect(h.status("svc") == .skipped)
        #expect(h.runStatus() == .failed)
    }

    @Test func runOfOnlyForeverTasksEndsAtOnce() {
        // Nothing to wait for: the run ends as it starts, and its forever task never runs.
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("svc", forever: true)]))
        #expect(h.spawns(of: "svc").isEmpty)
        #expect(h.status("svc") == .skipped)
        #expect(h.reason("svc") == "stopped at end of run")
        #expect(h.runStatus() == .succeeded)
    }
}
