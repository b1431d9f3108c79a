import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §1/§2 retries: count, recoverable exit codes, delays and backoff, attempt numbers.
@Suite struct EngineRetryTests {
    @Test func retriesGiveThatManyExtraAttemptsNumberedFromOne() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("flaky", retries: 2), Fx.task("after", after: ["flaky"])]))
        for _ in 0..<3 { h.exit("flaky", code: 1) }
        let plans = h.spawns(of: "flaky")
        #expect(plans.map(\.attempt) == [1, 2, 3])
        #expect(plans.map(\.logPath) == (1...3).map { "logs/r1/0.\($0).log" })
        #expect(h.status("flaky") == .failed)
        #expect(h.reason("flaky") == "exit code 1")
        #expect(h.record("flaky")?.attempt == 3)
        #expect(h.record("flaky")?.failures == 3)
        #expect(h.status("after") == .skipped)
        #expect(h.runStatus() == .failed)
    }

    @Test func aRetryThatSucceedsMakesTheTaskSucceed() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("flaky", retries: 3), Fx.task("after", after: ["flaky"])]))
        h.exit("flaky", code: 1)
        #expect(h.status("flaky") == .running)
        h.exit("flaky", code: 0)
        #expect(h.status("flaky") == .succeeded)
        #expect(h.reason("flaky") == nil)
        #expect(h.record("flaky")?.attempt == 2)
        #expect(h.isLive("after"))
        h.exit("after")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func aFailureWithRetriesLeftDoesNotTriggerTheFailureMode() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .failfast, tasks: [Fx.task("flaky", retries: 1), Fx.task("other")]))
        h.exit("flaky", code: 1)
        #expect(h.signals.isEmpty)
        #expect(h.liveNames() == ["flaky", "other"])
    }

    @Test func onlyListedExitCodesAreRetried() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [
                    Fx.task("listed", retries: 3, retryExitCodes: [75, 111]),
                    Fx.task("unlisted", retries: 3, retryExitCodes: [75]),
                ]))
        h.exit("listed", code: 75)
        h.exit("listed", code: 111)
        #expect(h.spawns(of: "listed").count == 3)
        h.exit("listed", code: 1)
        #expect(h.status("listed") == .failed)
        #expect(h.spawns(of: "listed").count == 3)
        h.exit("unlisted", code: 1)
        #expect(h.status("unlisted") == .failed)
        #expect(h.spawns(of: "unlisted").count == 1)
    }

    @Test func aKillBySignalIsNotRetriedWhenExitCodesAreListed() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", retries: 3, retryExitCodes: [75])]))
        h.kill("t", signal: 11)
        #expect(h.status("t") == .failed)
        #expect(h.reason("t") == "killed by signal 11")
        #expect(h.spawns(of: "t").count == 1)
    }

    @Test func timeoutIsNotRetriedWhenExitCodesAreListed() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(tasks: [Fx.task("t", timeout: 5, retries: 3, retryExitCodes: [75])]))
        h.advance(by: 5)
        #expect(h.status("t") == .timedOut)
        #expect(h.spawns(of: "t").count == 1)
    }

    @Test func timeoutIsRetriedWhenNoExitCodesAreListed() {
        var h = EngineHarness()
        h.exitOnTerminate = true
        h.add(WorkflowSpec(tasks: [Fx.task("t", timeout: 5, retries: 1)]))
        h.advance(by: 5)
        #expect(h.status("t") == .running)
        #expect(h.spawns(of: "t").map(\.attempt) == [1, 2])
        #expect(h.spawnTimes(of: "t") == [0, 5])
        h.advance(by: 5)
        #expect(h.status("t") == .timedOut)
        #expect(h.reason("t") == "timeout after 5s")
        #expect(h.spawns(of: "t").count == 2)
    }

    @Test func fixedRetryDelayWaitsBeforeEachAttempt() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", retries: 2, retryDelay: 7)]))
        h.advance(to: 1)
        h.exit("t", code: 1)
        #expect(h.status("t") == .pending)
        #expect(h.reason("t") == "attempt 1 failed (exit code 1); retry in 7s")
        #expect(h.record("t")?.retryAt == EngineHarness.epoch.addingTimeInterval(8))
        #expect(h.nextWake == 8)
        #expect(h.engine.busy == 0)
        h.advance(to: 7.9)
        #expect(!h.isLive("t"))
        h.advance(to: 8)
        #expect(h.isLive("t"))
        h.advance(to: 10)
        h.exit("t", code: 1)
        #expect(h.nextWake == 17)
        h.advance(to: 17)
        #expect(h.spawnTimes(of: "t") == [0, 8, 17])
        #expect(h.spawns(of: "t").map(\.attempt) == [1, 2, 3])
    }

    @Test func exponentialBackoffDoublesTheDelayUpToTheMaximum() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(tasks: [
                Fx.task("t", retries: 5, retryDelay: 2, backoff: .exponential, retryMaxDelay: 10)
            ]))
        var delays: [Double] = []
        for _ in 0..<5 {
            let failedAt = h.elapsed
            h.exit("t", code: 1)
            guard let wake = h.nextWake else {
                Issue.record("no retry scheduled")
                return
            }
            delays.append(wake - failedAt)
            h.advance(to: wake)
            #expect(h.isLive("t"))
        }
        #expect(delays == [2, 4, 8, 10, 10])
        h.exit("t", code: 1)
        #expect(h.status("t") == .failed)
        #expect(h.spawns(of: "t").map(\.attempt) == [1, 2, 3, 4, 5, 6])
    }

    @Test func retryDelayIsCappedByRetryMaxDelayAlsoWhenFixed() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", retries: 1, retryDelay: 100, retryMaxDelay: 30)]))
        h.exit("t", code: 1)
        #expect(h.nextWake == 30)
    }

    @Test func aTaskWaitingForItsRetryHoldsTheRunOpenButNoSlot() {
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(tasks: [Fx.task("t", retries: 1, retryDelay: 60), Fx.task("u")]))
        h.exit("t", code: 1)
        #expect(h.liveNames() == ["u"])
        h.exit("u")
        #expect(h.runStatus() == .running)
        h.advance(by: 60)
        h.exit("t")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func aTaskWaitingForItsRetryIsSkippedByAFailfastHalt() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .failfast, tasks: [Fx.task("t", retries: 1, retryDelay: 60), Fx.task("bad")]))
        h.exit("t", code: 1)
        h.exit("bad", code: 1)
        #expect(h.status("t") == .skipped)
        #expect(h.record("t")?.retryAt == nil)
        #expect(h.runStatus() == .failed)
        #expect(h.nextWake == nil)
    }

    @Test func cancelDuringARetryDelayCancelsTheTask() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("t", retries: 1, retryDelay: 60)]))
        h.exit("t", code: 1)
        h.cancel()
        #expect(h.status("t") == .cancelled)
        #expect(h.reason("t") == "cancelled by client")
        #expect(h.runStatus() == .cancelled)
        h.advance(by: 120)
        #expect(h.spawns(of: "t").count == 1)
    }
}
