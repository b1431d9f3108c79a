import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 concurrency: pool, run and group limits at once, and fairness between runs.
@Suite struct EngineConcurrencyTests {
    @Test func parallelGroupRespectsItsMaxParallel() {
        var h = EngineHarness(workers: 16)
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "g", maxParallel: 2)], tasks: Fx.wide(5, group: "g")))
        #expect(h.liveNames() == ["t0", "t1"])
        h.exit("t0")
        #expect(h.liveNames() == ["t1", "t2"])
        var peak = 0
        while !h.live.isEmpty {
            peak = max(peak, h.live.count)
            h.exit(h.live.keys.min { $0.task < $1.task }!, code: 0, signal: nil)
        }
        #expect(peak == 2)
        #expect(h.runStatus() == .succeeded)
    }

    @Test func runMaxParallelBoundsTheRun() {
        var h = EngineHarness(workers: 16)
        h.add(WorkflowSpec(maxParallel: 3, tasks: Fx.wide(10)))
        #expect(h.live.count == 3)
        h.exit("t1")
        #expect(h.live.count == 3)
        #expect(h.liveNames() == ["t0", "t2", "t3"])
        h.runAll()
        #expect(h.peakBusy == 3)
        #expect(h.runStatus() == .succeeded)
    }

    @Test func workerPoolBoundsEveryRunTogether() {
        var h = EngineHarness(workers: 2)
        h.add(WorkflowSpec(tasks: Fx.wide(5)), runID: "r1")
        h.add(WorkflowSpec(tasks: Fx.wide(5)), runID: "r2")
        #expect(h.live.count == 2)
        #expect(h.engine.busy == 2)
        h.runAll()
        #expect(h.peakBusy == 2)
        #expect(h.runStatus("r1") == .succeeded)
        #expect(h.runStatus("r2") == .succeeded)
        #expect(h.engine.busy == 0)
    }

    @Test func threeLimitsApplyAtOnce() {
        // Pool 4, run 3, group 2: the group gets 2, the ungrouped task gets the run's third.
        var h = EngineHarness(workers: 4)
        h.add(
            WorkflowSpec(
                maxParallel: 3, groups: [GroupSpec(name: "g", maxParallel: 2)],
                tasks: Fx.wide(4, prefix: "g", group: "g") + Fx.wide(3, prefix: "u")))
        #expect(h.liveNames() == ["g0", "g1", "u0"])
        h.add(WorkflowSpec(tasks: Fx.wide(3, prefix: "o")), runID: "other")
        // The fourth slot of the pool goes to the other run.
        #expect(h.liveNames(run: "other") == ["o0"])
        h.exit("o0", run: "other")
        #expect(h.liveNames(run: "other") == ["o1"])
        h.exit("g0")
        #expect(h.liveNames() == ["g1", "g2", "u0"])
    }

    @Test func aLaterRunGetsASlotBeforeAHundredReadyTasksOfAnEarlierOneAreDone() {
        var h = EngineHarness(workers: 2)
        h.add(WorkflowSpec(tasks: Fx.wide(100, prefix: "a")), runID: "A")
        #expect(h.live.count == 2)
        h.add(WorkflowSpec(tasks: Fx.wide(3, prefix: "b")), runID: "B")
        var aDoneBeforeB = 0
        while h.liveNames(run: "B").isEmpty, let name = h.liveNames(run: "A").first {
            h.exit(name, run: "A")
            aDoneBeforeB += 1
        }
        // Round-robin: B waits for at most one completion per pool slot.
        #expect(aDoneBeforeB <= 2)
        // And B keeps getting turns: all its tasks end while A still has most of its work.
        var aDone = aDoneBeforeB
        while h.runStatus("B") != .succeeded {
            if let b = h.liveNames(run: "B").first { h.exit(b, run: "B") }
            if let a = h.liveNames(run: "A").first {
                h.exit(a, run: "A")
                aDone += 1
            }
        }
        #expect(aDone < 10)
        h.runAll()
        #expect(h.runStatus("A") == .succeeded)
    }

    @Test func aRunWithTenThousandReadyTasksDoesNotStarveALaterRun() {
        var h = EngineHarness(workers: 2)
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.wide(10_000, prefix: "a")), runID: "A")
        h.add(WorkflowSpec(tasks: Fx.chain(5, prefix: "b")), runID: "B")
        var aDone = 0
        // Processes end in the order they started, as equal-length tasks would.
        while h.runStatus("B") == .running, let ref = h.exitOldest() {
            if ref.runID == "A" { aDone += 1 }
        }
        #expect(h.runStatus("B") == .succeeded)
        // B's five chained tasks each wait for about one A task, not for A's 10,000.
        #expect(aDone <= 12)
    }

    @Test func slotIsFreedWhenATaskFailsAndWhenItsSpawnFails() {
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(mode: .waitall, tasks: Fx.wide(3)))
        h.exit("t0", code: 1)
        #expect(h.liveNames() == ["t1"])
        h.spawnFailed("t1", message: "no such file")
        #expect(h.liveNames() == ["t2"])
        h.exit("t2")
        #expect(h.engine.busy == 0)
        #expect(h.runStatus() == .failed)
    }
}
