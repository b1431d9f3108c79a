import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 task timeouts and `on_timeout` hooks.
@Suite struct EngineTimeoutTests {
    @Test func taskTimeoutTerminatesThenKillsAfterTheGraceAndEndsTimedOut() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(WorkflowSpec(killGraceSeconds: 3, tasks: [Fx.task("slow", timeout: 5)]))
        #expect(h.nextWake == 5)
        h.advance(by: 4.9)
        #expect(h.signals.isEmpty)
        h.advance(to: 5)
        #expect(h.timedSignals(of: "slow") == [.init(ref: h.ref("slow"), signal: .terminate, at: 5)])
        #expect(h.status("slow") == .running)
        #expect(h.nextWake == 8)
        h.advance(to: 8)
        #expect(h.timedSignals(of: "slow").last == .init(ref: h.ref("slow"), signal: .kill, at: 8))
        h.kill("slow", signal: 9)
        #expect(h.status("slow") == .timedOut)
        #expect(h.reason("slow") == "timeout after 5s")
        #expect(h.record("slow")?.signal == 9)
        // A task timeout makes the run failed; timed_out is for the run deadline only.
        #expect(h.runStatus() == .failed)
    }

    @Test func timeoutThatEndsOnTerminateIsStillTimedOut() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(tasks: [Fx.task("slow", timeout: 0.5)]))
        h.advance(by: 1)
        #expect(h.status("slow") == .timedOut)
        #expect(h.reason("slow") == "timeout after 0.5s")
        #expect(h.signals(of: "slow") == [.terminate])
    }

    @Test func zeroTimeoutDisablesTheTimeout() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("long", timeout: 0)]))
        #expect(h.nextWake == nil)
        h.advance(by: 1_000_000)
        #expect(h.signals.isEmpty)
        h.exit("long")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func defaultTaskTimeoutIsThreeHundredSeconds() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [TaskSpec(name: "t", command: .argv(["sleep", "1000"]))]))
        h.advance(by: 300)
        h.advance(by: 10)
        #expect(h.status("t") == .timedOut)
        #expect(h.reason("t") == "timeout after 300s")
    }

    @Test func zeroGraceSendsKillRightAfterTerminate() {
        var h = EngineHarness()
        h.exitOnKill = false
        h.add(WorkflowSpec(killGraceSeconds: 0, tasks: [Fx.task("t", timeout: 2)]))
        h.advance(by: 2)
        #expect(h.timedSignals(of: "t").map(\.signal) == [.terminate, .kill])
        #expect(h.timedSignals(of: "t").map(\.at) == [2, 2])
    }

    @Test func onTimeoutHookStartsAfterTheKillAndTheTaskEndsWhenTheHookExits() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall, killGraceSeconds: 2,
                tasks: [
                    Fx.task("slow", timeout: 10, onTimeout: .shell("collect-diagnostics")),
                    Fx.task("after", after: ["slow"], trigger: .allDone),
                ]))
        h.advance(to: 10)
        #expect(h.spawns(of: "slow").count == 1)
        h.advance(to: 12)  // SIGKILL; the fake process dies of it
        let plans = h.spawns(of: "slow")
        #expect(plans.count == 2)
        #expect(plans.last?.isTimeoutHook == true)
        #expect(plans.last?.command == .shell("collect-diagnostics"))
        #expect(plans.last?.attempt == 1)
        #expect(plans.last?.logPath == plans.first?.logPath)
        #expect(h.spawnTimes(of: "slow") == [0, 12])
        // The task has not ended while its hook runs.
        #expect(h.status("slow") == .running)
        #expect(!h.isLive("after"))
        #expect(h.engine.busy == 1)
        h.advance(by: 5)
        h.exit("slow", code: 0)  // the hook
        #expect(h.status("slow") == .timedOut)
        #expect(h.reason("slow") == "timeout after 10s")
        #expect(h.record("slow")?.signal == 9)
        #expect(h.isLive("after"))
        h.exit("after")
        #expect(h.runStatus() == .failed)
    }

    @Test func onTimeoutHookIsStoppedAfterItsOwnSixtySeconds() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                killGraceSeconds: 5, tasks: [Fx.task("slow", timeout: 10, onTimeout: .shell("hang"))]))
        h.advance(to: 10)
        h.kill("slow", signal: 15)  // the command obeys SIGTERM; the hook starts at 10
        #expect(h.spawns(of: "slow").last?.isTimeoutHook == true)
        h.advance(to: 69.9)
        #expect(h.signals(of: "slow") == [.terminate])
        h.advance(to: 70)
        #expect(h.signals(of: "slow") == [.terminate, .terminate])
        h.advance(to: 75)
        #expect(h.signals(of: "slow") == [.terminate, .terminate, .kill])
        #expect(h.status("slow") == .timedOut)
        #expect(h.reason("slow") == "timeout after 10s")
        #expect(h.runStatus() == .failed)
    }

    @Test func timedOutTaskIsRetriedOnlyAfterItsHookExited() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                killGraceSeconds: 1,
                tasks: [Fx.task("t", timeout: 5, onTimeout: .shell("hook"), retries: 1)]))
        h.advance(to: 6)  // TERM at 5, KILL at 6, the hook starts
        #expect(h.spawns(of: "t").map(\.isTimeoutHook) == [false, true])
        h.advance(to: 8)
        h.exit("t")  // the hook
        let plans = h.spawns(of: "t")
        #expect(plans.map(\.isTimeoutHook) == [false, true, false])
        #expect(plans.map(\.attempt) == [1, 1, 2])
        #expect(h.spawnTimes(of: "t") == [0, 6, 8])
        h.exit("t")
        #expect(h.status("t") == .succeeded)
        #expect(h.runStatus() == .succeeded)
    }

    @Test func onTimeoutHookIsNotRunForAnOrdinaryFailure() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", timeout: 10, onTimeout: .shell("hook"))]))
        h.exit("t", code: 1)
        #expect(h.spawns(of: "t").count == 1)
        #expect(h.status("t") == .failed)
    }

    @Test func taskTimeoutUnderFailfastStopsTheRestOfTheRun() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .failfast, killGraceSeconds: 1,
                tasks: [Fx.task("slow", timeout: 5), Fx.task("other")]))
        h.advance(to: 5)
        h.kill("slow", signal: 15)
        #expect(h.status("slow") == .timedOut)
        #expect(h.signals(of: "other") == [.terminate])
        h.advance(by: 1)
        #expect(h.status("other") == .cancelled)
        #expect(h.reason("other") == "stopped: slow failed")
        #expect(h.runStatus() == .failed)
    }

    @Test func spawnFailureEndsTheTaskFailedWithTheMessage() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t"), Fx.task("after", after: ["t"])]))
        h.spawnFailed("t", message: "cwd /nope: No such file or directory")
        #expect(h.status("t") == .failed)
        #expect(h.reason("t") == "cwd /nope: No such file or directory")
        #expect(h.status("after") == .skipped)
        #expect(h.runStatus() == .failed)
        #expect(h.engine.busy == 0)
    }
}
