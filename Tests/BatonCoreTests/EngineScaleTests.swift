import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// Sized for 100,000 tasks (STYLE "The scheduling core"): big runs complete through the
/// harness without recursion or rescans. No timing assertions: a quadratic engine simply
/// does not finish, and the harness checks after every event that no run is stalled.
@Suite struct EngineScaleTests {
    @Test func hundredThousandTaskChainCompletes() {
        let count = 100_000
        var h = EngineHarness(workers: 2)
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.chain(count)))
        h.runAll()
        #expect(h.runStatus() == .succeeded)
        #expect(h.spawns.count == count)
        #expect(h.peakBusy == 1)
    }

    @Test func failureAtTheHeadOfAHundredThousandTaskChainSkipsItAllWithoutRecursion() {
        let count = 100_000
        var h = EngineHarness()
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.chain(count)))
        h.exit("c0", code: 1)
        #expect(h.runStatus() == .failed)
        #expect(h.status("c\(count - 1)") == .skipped)
        #expect(h.reason("c\(count - 1)") == "upstream failed: c0")
        #expect(h.taskRowCount <= 2 * count)
    }

    @Test func tenThousandTaskWideRunCompletes() {
        let count = 10_000
        var h = EngineHarness(workers: 2)
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.wide(count) + [Fx.task("join", after: (0..<count).map { "t\($0)" })]))
        h.runAll()
        #expect(h.runStatus() == .succeeded)
        #expect(h.spawns.count == count + 1)
        #expect(h.peakBusy == 2)
    }

    @Test func tenThousandTaskWideRunInGroupsWithLimitsCompletes() {
        var h = EngineHarness(workers: 2)
        h.keepBatches = false
        let groups = (0..<10).map {
            GroupSpec(name: "g\($0)", strategy: $0 % 2 == 0 ? .parallel : .sequential, maxParallel: nil)
        }
        let tasks = (0..<10).flatMap { Fx.wide(1_000, prefix: "g\($0)-", group: "g\($0)") }
        h.add(WorkflowSpec(maxParallel: 2, groups: groups, tasks: tasks))
        h.runAll()
        #expect(h.runStatus() == .succeeded)
        #expect(h.spawns.count == 10_000)
    }

    @Test func cancellingATenThousandTaskRunCompletes() {
        var h = EngineHarness(workers: 2)
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.chain(5_000, prefix: "a") + Fx.wide(5_000, prefix: "w")))
        h.cancel()
        h.runAll()
        #expect(h.runStatus() == .cancelled)
        #expect(h.status("a4999") == .cancelled)
        #expect(h.status("w4999") == .cancelled)
    }

    @Test func manyRunsWithRetriesAndTimeoutsNeverStall() {
        // A mixed workload: every third attempt fails, some tasks time out; the harness
        // checks `isStalled` after every event.
        var h = EngineHarness(workers: 3)
        h.keepBatches = false
        for run in 0..<5 {
            var tasks: [TaskSpec] = []
            for i in 0..<200 {
                tasks.append(
                    Fx.task(
                        "t\(i)", after: i >= 10 ? ["t\(i - 10)"] : [], trigger: i % 7 == 0 ? .allDone : .allSuccess,
                        timeout: i % 13 == 0 ? 5 : 0, retries: 1, retryDelay: Double(i % 3)))
            }
            h.add(WorkflowSpec(mode: .waitall, maxParallel: 4, tasks: tasks), runID: "m\(run)")
        }
        var counter = 0
        h.runAll { _ in
            counter += 1
            return counter % 3 == 0 ? 1 : 0
        }
        for run in 0..<5 {
            #expect(h.runStatus("m\(run)")?.isTerminal == true)
        }
        #expect(h.engine.busy == 0)
    }
}
