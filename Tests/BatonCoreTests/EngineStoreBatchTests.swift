import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// What the engine hands the store: run rows, task rows and attempt rows, in batches.
@Suite struct EngineStoreBatchTests {
    @Test func runRowsRecordStartAndEnd() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a")]))
        #expect(h.runRows.map(\.status) == [.running])
        #expect(h.runRows.first?.startedAt == EngineHarness.epoch)
        h.advance(by: 3)
        h.exit("a")
        #expect(h.runRows.map(\.status) == [.running, .succeeded])
        #expect(h.runRows.last?.finishedAt == EngineHarness.epoch.addingTimeInterval(3))
    }

    @Test func taskRowsFollowEachTransition() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a")]))
        let started = h.taskRows.last
        #expect(started?.status == .running)
        #expect(started?.attempt == 1)
        #expect(started?.startedAt == EngineHarness.epoch)
        #expect(started?.pgid != nil)
        h.advance(by: 2)
        h.exit("a", code: 0)
        let ended = h.taskRows.last
        #expect(ended?.status == .succeeded)
        #expect(ended?.exitCode == 0)
        #expect(ended?.pgid == nil)
        #expect(ended?.finishedAt == EngineHarness.epoch.addingTimeInterval(2))
        #expect(ended?.index == 0)
        #expect(ended?.name == "a")
        #expect(h.batches.allSatisfy { $0.tasks.allSatisfy { $0.runID == "r1" } })
    }

    @Test func attemptRowsOpenAndCloseWithTheirLogPath() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("x"), Fx.task("t", retries: 1)]))
        h.advance(by: 1)
        h.exit("t", code: 4)
        h.advance(by: 2)
        h.exit("t", code: 0)
        let rows = h.attemptRows.filter { $0.taskIndex == 1 }
        #expect(rows.count == 4)
        let first = rows.filter { $0.attempt == 1 }
        let second = rows.filter { $0.attempt == 2 }
        #expect(first.map(\.status) == [.running, .failed])
        #expect(first.last?.exitCode == 4)
        #expect(first.last?.startedAt == EngineHarness.epoch)
        #expect(first.last?.finishedAt == EngineHarness.epoch.addingTimeInterval(1))
        #expect(second.map(\.status) == [.running, .succeeded])
        #expect(second.first?.startedAt == EngineHarness.epoch.addingTimeInterval(1))
        #expect(second.last?.finishedAt == EngineHarness.epoch.addingTimeInterval(3))
        #expect(first.allSatisfy { $0.logPath == "logs/r1/1.1.log" })
        #expect(second.allSatisfy { $0.logPath == "logs/r1/1.2.log" })
        #expect(rows.allSatisfy { $0.runID == "r1" })
    }

    @Test func attemptOfATimedOutTaskRecordsTheSignal() {
        var h = EngineHarness()
        h.add(WorkflowSpec(killGraceSeconds: 1, tasks: [Fx.task("t", timeout: 5)]))
        h.advance(by: 6)
        let last = h.attemptRows.last
        #expect(last?.status == .timedOut)
        #expect(last?.signal == 9)
        #expect(last?.finishedAt == EngineHarness.epoch.addingTimeInterval(6))
    }

    @Test func spawnPlanCarriesMergedEnvironmentCwdAndCommand() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                env: ["A": "run", "B": "run"],
                tasks: [
                    TaskSpec(
                        name: "t", command: .argv(["echo", "hi"]), env: ["B": "task", "C": "task"],
                        cwd: "/srv")
                ]))
        let plan = h.spawns.first
        #expect(plan?.env == ["A": "run", "B": "task", "C": "task"])
        #expect(plan?.cwd == "/srv")
        #expect(plan?.command == .argv(["echo", "hi"]))
        #expect(plan?.taskName == "t")
        #expect(plan?.attempt == 1)
        #expect(plan?.isTimeoutHook == false)
        #expect(plan?.ref == TaskRef(runID: "r1", task: 0))
    }

    @Test func tenThousandTaskRunProducesChangesProportionalToTheWork() {
        let count = 10_000
        var h = EngineHarness(workers: 8)
        h.keepBatches = false
        h.add(WorkflowSpec(tasks: Fx.wide(count)))
        h.runAll()
        #expect(h.runStatus() == .succeeded)
        // One open and one close per attempt; a few task rows per task (start, pid, end).
        #expect(h.attemptRowCount == 2 * count)
        #expect(h.taskRowCount >= 2 * count)
        #expect(h.taskRowCount <= 3 * count)
        #expect(h.runRowCount == 2)
    }

    @Test func eachBatchHoldsOnlyWhatChanged() {
        var h = EngineHarness(workers: 1)
        h.add(WorkflowSpec(tasks: Fx.wide(1_000)))
        let before = h.batches.count
        h.exit("t0")
        let batch = h.batches[before...].reduce(into: StoreBatch()) {
            $0.tasks += $1.tasks
            $0.attempts += $1.attempts
            $0.runs += $1.runs
        }
        // t0 ended, t1 started: two tasks touched, two attempt rows, no run row.
        #expect(Set(batch.tasks.map(\.task.index)) == [0, 1])
        #expect(batch.attempts.count == 2)
        #expect(batch.runs.isEmpty)
    }
}
