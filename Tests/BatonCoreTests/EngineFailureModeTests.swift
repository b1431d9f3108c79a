import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 failure modes: failfast, waitcurrent, waitall, critical, runalways.
@Suite struct EngineFailureModeTests {
    @Test func failfastTerminatesRunningTasksAndKillsThemAfterTheGrace() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(
            WorkflowSpec(
                mode: .failfast, killGraceSeconds: 10,
                tasks: [Fx.task("bad"), Fx.task("slow"), Fx.task("next", after: ["slow"])]))
        h.advance(by: 1)
        h.exit("bad", code: 3)
        #expect(h.status("bad") == .failed)
        #expect(h.timedSignals(of: "slow") == [.init(ref: h.ref("slow"), signal: .terminate, at: 1)])
        #expect(h.status("slow") == .running)
        #expect(h.status("next") == .skipped)
        #expect(h.nextWake == 11)
        h.advance(by: 9.9)
        #expect(h.signals(of: "slow") == [.terminate])
        h.advance(by: 0.1)
        #expect(h.timedSignals(of: "slow").last == .init(ref: h.ref("slow"), signal: .kill, at: 11))
        h.kill("slow", signal: 9)
        #expect(h.status("slow") == .cancelled)
        #expect(h.reason("slow") == "stopped: bad failed")
        #expect(h.record("slow")?.signal == 9)
        #expect(h.runStatus() == .failed)
    }

    @Test func failfastTaskThatExitsOnTerminateIsNotKilled() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(mode: .failfast, tasks: [Fx.task("bad"), Fx.task("polite")]))
        h.exit("bad", code: 1)
        #expect(h.status("polite") == .cancelled)
        #expect(h.reason("polite") == "stopped: bad failed")
        #expect(h.runStatus() == .failed)
        h.advance(by: 100)
        #expect(h.signals(of: "polite") == [.terminate])
    }

    @Test func failfastSkipsEveryTaskNotYetStarted() {
        var h = EngineHarness(workers: 1)
        h.add(
            WorkflowSpec(
                mode: .failfast, groups: [GroupSpec(name: "work"), GroupSpec(name: "later")],
                tasks: [
                    Fx.task("bad", group: "work"), Fx.task("queued", group: "work"),
                    Fx.task("dep", after: ["queued"]), Fx.task("grouped", group: "later"),
                ]))
        #expect(h.liveNames() == ["bad"])
        h.exit("bad", code: 1)
        for name in ["queued", "dep", "grouped"] {
            #expect(h.status(name) == .skipped, "\(name)")
            #expect(h.reason(name) == "not started: bad failed", "\(name)")
        }
        #expect(h.live.isEmpty)
        #expect(h.runStatus() == .failed)
    }

    @Test func pendingTasksSkippedByAHaltDoNotReportAnUpstreamFailureToTheirDependents() {
        // Regression: a halt skipped pending tasks one at a time, and each one's dependents
        // were released as `upstream failed: <a task that never ran>`.
        var h = EngineHarness(workers: 1)
        h.add(
            WorkflowSpec(
                mode: .waitcurrent,
                tasks: [Fx.task("bad"), Fx.task("x"), Fx.task("y", after: ["x"]), Fx.task("z", after: ["y"])]))
        h.exit("bad", code: 1)
        for name in ["x", "y", "z"] {
            #expect(h.status(name) == .skipped, "\(name)")
            #expect(h.reason(name) == "not started: bad failed", "\(name)")
        }
    }

    @Test func waitcurrentLetsRunningTasksFinishAndSkipsPendingOnes() {
        var h = EngineHarness(workers: 2)
        h.add(
            WorkflowSpec(
                mode: .waitcurrent,
                tasks: [Fx.task("bad"), Fx.task("running"), Fx.task("waiting"), Fx.task("dep", after: ["running"])]))
        h.exit("bad", code: 1)
        #expect(h.signals(of: "running").isEmpty)
        #expect(h.status("waiting") == .skipped)
        #expect(h.reason("waiting") == "not started: bad failed")
        #expect(h.status("dep") == .skipped)
        #expect(h.runStatus() == .running)
        h.advance(by: 30)
        h.exit("running")
        #expect(h.status("running") == .succeeded)
        #expect(h.spawns(of: "waiting").isEmpty)
        #expect(h.runStatus() == .failed)
    }

    @Test func waitallRunsEverythingExceptAllSuccessDependentsOfTheFailure() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [
                    Fx.task("bad"), Fx.task("other"), Fx.task("dep", after: ["bad"]),
                    Fx.task("done", after: ["bad"], trigger: .allDone),
                    Fx.task("afterOther", after: ["other"]),
                ]))
        h.exit("bad", code: 1)
        #expect(h.status("dep") == .skipped)
        #expect(h.reason("dep") == "upstream failed: bad")
        #expect(h.signals.isEmpty)
        #expect(h.liveNames() == ["done", "other"])
        h.exit("other")
        h.exit("done")
        #expect(h.liveNames() == ["afterOther"])
        h.exit("afterOther")
        #expect(h.status("afterOther") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func criticalTaskActsLikeFailfastUnderWaitall() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [Fx.task("key", critical: true), Fx.task("other"), Fx.task("later", after: ["other"])]))
        h.exit("key", code: 1)
        #expect(h.signals(of: "other") == [.terminate])
        #expect(h.status("later") == .skipped)
        h.advance(by: 10)
        #expect(h.status("other") == .cancelled)
        #expect(h.reason("other") == "stopped: key failed")
        #expect(h.runStatus() == .failed)
    }

    @Test func criticalTaskInAWaitallGroupStopsTheRun() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall, groups: [GroupSpec(name: "g", mode: .waitall)],
                tasks: [Fx.task("key", group: "g", critical: true), Fx.task("other")]))
        h.exit("key", code: 1)
        #expect(h.signals(of: "other") == [.terminate])
    }

    // MARK: runalways

    private static func cleanupSpec(mode: FailureMode, timeout: Double? = nil) -> WorkflowSpec {
        WorkflowSpec(
            mode: mode, timeoutSeconds: timeout, killGraceSeconds: 5,
            groups: [
                GroupSpec(name: "work"), GroupSpec(name: "more"),
                GroupSpec(name: "cleanup", mode: .runalways),
            ],
            tasks: [
                Fx.task("bad", group: "work"), Fx.task("slow", group: "work"),
                Fx.task("never", group: "more"),
                Fx.task("teardown", group: "cleanup"), Fx.task("report", group: "cleanup"),
            ])
    }

    @Test(arguments: [FailureMode.failfast, .waitcurrent, .waitall])
    func runalwaysGroupStillRunsAfterAFailure(mode: FailureMode) {
        var h = EngineHarness()
        h.add(Self.cleanupSpec(mode: mode))
        h.exit("bad", code: 1)
        // The cleanup stage waits for the earlier groups to end.
        #expect(!h.isLive("teardown"))
        if mode == .failfast {
            #expect(h.signals(of: "slow") == [.terminate])
            h.kill("slow", signal: 15)
            #expect(h.status("slow") == .cancelled)
        } else {
            #expect(h.signals(of: "slow").isEmpty)
            h.exit("slow")
            #expect(h.status("slow") == .succeeded)
        }
        if mode == .waitall {
            #expect(h.liveNames() == ["never"])
            h.exit("never")
            #expect(h.status("never") == .succeeded)
        } else {
            #expect(h.status("never") == .skipped)
        }
        #expect(h.liveNames() == ["report", "teardown"])
        h.exit("teardown")
        h.exit("report")
        #expect(h.status("teardown") == .succeeded)
        #expect(h.status("report") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func runalwaysGroupRunsAfterTheRunDeadline() {
        var h = EngineHarness()
        h.add(Self.cleanupSpec(mode: .waitall, timeout: 60))
        h.advance(by: 60)
        #expect(h.signals(of: "bad") == [.terminate])
        #expect(h.signals(of: "slow") == [.terminate])
        #expect(h.status("never") == .skipped)
        #expect(h.reason("never") == "run timed out")
        h.kill("bad", signal: 15)
        h.kill("slow", signal: 15)
        #expect(h.status("slow") == .cancelled)
        #expect(h.reason("slow") == "run timeout after 60s")
        #expect(h.liveNames() == ["report", "teardown"])
        h.advance(by: 100)
        #expect(h.signals(of: "teardown").isEmpty)
        h.exit("teardown")
        h.exit("report")
        #expect(h.status("teardown") == .succeeded)
        #expect(h.runStatus() == .timedOut)
    }

    @Test func runalwaysGroupRunsAfterAFirstCancelAndASecondCancelStopsIt() {
        var h = EngineHarness()
        h.add(Self.cleanupSpec(mode: .waitcurrent))
        let accepted = h.cancel()
        #expect(accepted)
        #expect(h.status("never") == .cancelled)
        #expect(h.reason("never") == "cancelled by client")
        h.kill("bad", signal: 15)
        h.kill("slow", signal: 15)
        #expect(h.liveNames() == ["report", "teardown"])
        #expect(h.status("teardown") == .running)
        let secondAccepted = h.cancel()
        #expect(secondAccepted)
        #expect(h.signals(of: "teardown") == [.terminate])
        #expect(h.signals(of: "report") == [.terminate])
        h.advance(by: 5)
        #expect(h.signals(of: "teardown") == [.terminate, .kill])
        #expect(h.status("teardown") == .cancelled)
        #expect(h.reason("teardown") == "cancelled by client")
        #expect(h.runStatus() == .cancelled)
    }

    @Test func secondCancelCancelsRunalwaysTasksNotYetStartedWithoutSkippingTheirDependents() {
        // Regression: the second cancel released each cancelled task before reaching the
        // next, so `report` (after `teardown`) ended `skipped: upstream failed: teardown`.
        var spec = Self.cleanupSpec(mode: .waitcurrent)
        spec.tasks[4].dependsOn = ["teardown"]
        var h = EngineHarness()
        h.add(spec)
        h.cancel()
        h.cancel()
        #expect(h.status("teardown") == .cancelled)
        #expect(h.status("report") == .cancelled)
        #expect(h.reason("report") == "cancelled by client")
        h.advance(by: 5)
        #expect(h.live.isEmpty)
        #expect(h.spawns(of: "teardown").isEmpty)
        #expect(h.runStatus() == .cancelled)
    }

    @Test func failureInsideRunalwaysGroupDoesNotStopItsSiblings() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .failfast, groups: [GroupSpec(name: "cleanup", mode: .runalways)],
                tasks: [Fx.task("a", group: "cleanup"), Fx.task("b", group: "cleanup")]))
        h.exit("a", code: 1)
        #expect(h.signals(of: "b").isEmpty)
        h.exit("b")
        #expect(h.status("b") == .succeeded)
        #expect(h.runStatus() == .failed)
    }
}
