import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// Cluster mode: the node that ran an attempt was lost while the run's owner lives on.
/// The rule is SPEC §3's for a server restart, applied to one attempt.
@Suite struct EngineLostNodeTests {
    @Test func aRestartableTaskStartsAgainAsANewAttemptWithoutSpendingItsRetries() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a", retries: 0), Fx.task("b", after: ["a"])]))
        h.advance(by: 5)
        h.lose("a")
        #expect(h.spawns(of: "a").map(\.attempt) == [1, 2])
        #expect(h.status("a") == .running)
        #expect(h.record("a")?.failures == 0)
        let closed = h.attemptRows.last { $0.taskIndex == 0 && $0.attempt == 1 }
        #expect(closed?.status == .cancelled)
        #expect(closed?.finishedAt == h.now)
        h.exit("a")
        h.exit("b")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func aTaskThatMustNotRunTwiceFailsWithTheLossAsItsReasonAndNoRetry() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .failfast,
                tasks: [
                    Fx.task("once", retries: 3, restartable: false), Fx.task("other"),
                    Fx.task("after", after: ["once"]),
                ]))
        h.lose("once", reason: "interrupted: node n2 lost")
        #expect(h.status("once") == .failed)
        #expect(h.reason("once") == "interrupted: node n2 lost")
        #expect(h.spawns(of: "once").count == 1, "no retry")
        // failfast (the default): the other running task is stopped, the dependent skipped.
        #expect(h.signals(of: "other") == [.terminate])
        h.kill("other", signal: 15)
        #expect(h.status("after") == .skipped)
        #expect(h.runStatus() == .failed)
    }

    @Test func anAttemptBeingCancelledEndsCancelledWhenItsNodeIsLost() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a")]))
        h.cancel()
        h.lose("a")
        #expect(h.status("a") == .cancelled)
        #expect(h.spawns(of: "a").count == 1)
        #expect(h.runStatus() == .cancelled)
    }

    @Test func aRestartableTaskOfAHaltedRunIsNotStartedAgain() {
        var h = EngineHarness()
        h.exitOnTerminate = false
        h.add(WorkflowSpec(mode: .waitcurrent, tasks: [Fx.task("a"), Fx.task("b")]))
        h.exit("b", code: 1)
        h.lose("a")
        #expect(h.status("a") == .cancelled)
        #expect(h.reason("a") == "interrupted: node n1 lost")
        #expect(h.spawns(of: "a").count == 1)
        #expect(h.runStatus() == .failed)
    }
}
