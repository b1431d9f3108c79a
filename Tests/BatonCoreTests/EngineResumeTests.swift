import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §3 resume: a `RunMachine` rebuilt from persisted rows carries on.
@Suite struct EngineResumeTests {
    /// The run as the store held it when the previous server died.
    private static func restored(
        _ spec: WorkflowSpec, rows: [String: TaskRecord], now: Date,
        cancelRequests: Int = 0, deadlineHit: Bool = false, startedAgo: Double = 100,
        attemptStarts: [Int: Date] = [:]
    ) -> RunMachine {
        let record = RunRecord(
            id: "r1", name: spec.name, status: .running,
            createdAt: now.addingTimeInterval(-startedAgo),
            startedAt: now.addingTimeInterval(-startedAgo), specJSON: Data(), specHash: "test",
            cancelRequests: cancelRequests, deadlineHit: deadlineHit)
        let tasks = spec.tasks.enumerated().map { index, task in
            var row = rows[task.name] ?? TaskRecord(index: index, name: task.name, group: task.group)
            row.index = index
            row.name = task.name
            row.group = task.group
            return row
        }
        return RunMachine(
            record: record, spec: spec, tasks: tasks, attemptStarts: attemptStarts, now: now)
    }

    private static func row(
        _ status: TaskStatus, attempt: Int = 1, exitCode: Int32? = nil, reason: String? = nil,
        at now: Date, failures: Int = 0, retryAt: Date? = nil
    ) -> TaskRecord {
        TaskRecord(
            index: 0, name: "", group: nil, status: status, attempt: attempt, failures: failures,
            exitCode: exitCode, reason: reason, startedAt: now.addingTimeInterval(-50),
            finishedAt: status.isTerminal ? now.addingTimeInterval(-10) : nil,
            pgid: status == .running ? 4242 : nil, retryAt: retryAt)
    }

    @Test func runningRestartableTaskIsRestartedAsANewAttempt() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(tasks: [Fx.task("a"), Fx.task("b", after: ["a"])])
        h.add(
            Self.restored(
                spec, rows: ["a": Self.row(.running, at: now)], now: now,
                attemptStarts: [0: now.addingTimeInterval(-20)]))
        #expect(h.liveNames() == ["a"])
        #expect(h.spawns(of: "a").map(\.attempt) == [2])
        #expect(h.spawns(of: "a").first?.logPath == "logs/r1/0.2.log")
        // The interrupted attempt is closed.
        let closed = h.attemptRows.first { $0.taskIndex == 0 && $0.attempt == 1 }
        #expect(closed?.finishedAt == now)
        #expect(closed?.startedAt == now.addingTimeInterval(-20))
        #expect(closed?.status == .cancelled)
        h.exit("a")
        #expect(h.isLive("b"))
        h.exit("b")
        #expect(h.runStatus() == .succeeded)
    }

    @Test func runningNonRestartableTaskFailsAsInterrupted() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            mode: .waitall,
            tasks: [
                Fx.task("migrate", restartable: false), Fx.task("after", after: ["migrate"]),
                Fx.task("other"),
            ])
        h.add(Self.restored(spec, rows: ["migrate": Self.row(.running, at: now)], now: now))
        #expect(h.status("migrate") == .failed)
        #expect(h.reason("migrate") == "interrupted by server restart")
        #expect(h.spawns(of: "migrate").isEmpty)
        // waitall: only its dependents are skipped.
        #expect(h.status("after") == .skipped)
        #expect(h.reason("after") == "upstream failed: migrate")
        #expect(h.liveNames() == ["other"])
        h.exit("other")
        #expect(h.runStatus() == .failed)
        #expect(h.attemptRows.first { $0.taskIndex == 0 }?.status == .failed)
    }

    @Test func interruptedNonRestartableTaskAppliesFailfast() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            mode: .failfast,
            tasks: [Fx.task("once", restartable: false), Fx.task("running"), Fx.task("later", after: ["running"])])
        h.add(
            Self.restored(
                spec, rows: ["once": Self.row(.running, at: now), "running": Self.row(.running, at: now)],
                now: now))
        #expect(h.status("once") == .failed)
        #expect(h.status("later") == .skipped)
        // The restartable one is not restarted into a run that is failing fast.
        #expect(h.spawns(of: "running").isEmpty)
        #expect(h.status("running") != .running)
        #expect(h.runStatus() == .failed)
    }

    @Test func finishedTasksKeepTheirResultsAndDependentsContinue() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            mode: .waitall,
            groups: [GroupSpec(name: "g1"), GroupSpec(name: "g2")],
            tasks: [
                Fx.task("ok", group: "g1"), Fx.task("bad", group: "g1"),
                Fx.task("next", group: "g2", after: ["ok"]), Fx.task("skipped", group: "g2", after: ["bad"]),
                Fx.task("done", group: "g2", after: ["bad"], trigger: .allDone),
            ])
        h.add(
            Self.restored(
                spec,
                rows: [
                    "ok": Self.row(.succeeded, exitCode: 0, at: now),
                    "bad": Self.row(.failed, exitCode: 1, reason: "exit code 1", at: now),
                ], now: now))
        #expect(h.spawns(of: "ok").isEmpty)
        #expect(h.spawns(of: "bad").isEmpty)
        #expect(h.status("ok") == .succeeded)
        #expect(h.status("bad") == .failed)
        #expect(h.reason("bad") == "exit code 1")
        #expect(h.status("skipped") == .skipped)
        #expect(h.reason("skipped") == "upstream failed: bad")
        #expect(h.liveNames() == ["done", "next"])
        h.exit("done")
        h.exit("next")
        #expect(h.runStatus() == .failed)
    }

    @Test func restoredSequentialGroupContinuesWithTheNextTask() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            groups: [GroupSpec(name: "s", strategy: .sequential)],
            tasks: [Fx.task("one", group: "s"), Fx.task("two", group: "s"), Fx.task("three", group: "s")])
        h.add(Self.restored(spec, rows: ["one": Self.row(.succeeded, exitCode: 0, at: now)], now: now))
        #expect(h.liveNames() == ["two"])
        h.exit("two")
        #expect(h.liveNames() == ["three"])
    }

    @Test func persistedCancelIsHonouredAndRunalwaysStillRuns() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            groups: [GroupSpec(name: "work"), GroupSpec(name: "cleanup", mode: .runalways)],
            tasks: [
                Fx.task("a", group: "work"), Fx.task("b", group: "work"),
                Fx.task("teardown", group: "cleanup"),
            ])
        h.add(
            Self.restored(
                spec,
                rows: ["a": Self.row(.cancelled, reason: "cancelled by client", at: now)],
                now: now, cancelRequests: 1))
        #expect(h.status("b") == .cancelled)
        #expect(h.reason("b") == "cancelled by client")
        #expect(h.spawns(of: "b").isEmpty)
        #expect(h.liveNames() == ["teardown"])
        h.exit("teardown")
        #expect(h.runStatus() == .cancelled)
    }

    @Test func persistedSecondCancelStopsRunalwaysToo() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            groups: [GroupSpec(name: "cleanup", mode: .runalways)],
            tasks: [Fx.task("teardown", group: "cleanup")])
        h.add(
            Self.restored(
                spec, rows: ["teardown": Self.row(.running, at: now)], now: now, cancelRequests: 2))
        #expect(h.spawns.isEmpty)
        #expect(h.status("teardown") == .cancelled)
        #expect(h.runStatus() == .cancelled)
    }

    @Test func persistedDeadlineHitEndsTheRunTimedOut() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(timeoutSeconds: 50, tasks: [Fx.task("a"), Fx.task("b")])
        h.add(
            Self.restored(
                spec, rows: ["a": Self.row(.running, at: now)], now: now, deadlineHit: true))
        #expect(h.spawns.isEmpty)
        #expect(h.status("b") == .skipped)
        #expect(h.runStatus() == .timedOut)
    }

    @Test func runDeadlineCountsFromTheOriginalStart() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(timeoutSeconds: 300, tasks: [Fx.task("a")])
        h.exitOnTerminate = true
        h.add(Self.restored(spec, rows: ["a": Self.row(.running, at: now)], now: now, startedAgo: 100))
        #expect(h.nextWake == 200)
        h.advance(to: 200)
        #expect(h.runStatus() == .timedOut)
    }

    @Test func runDeadlinePassedWhileTheServerWasDownDoesNotRestartTasks() {
        // Regression: a restored run whose deadline passed during the downtime respawned
        // its interrupted tasks, only to kill them at the first tick.
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(
            timeoutSeconds: 300,
            groups: [GroupSpec(name: "work"), GroupSpec(name: "cleanup", mode: .runalways)],
            tasks: [Fx.task("a", group: "work"), Fx.task("b", group: "work"), Fx.task("teardown", group: "cleanup")])
        h.add(Self.restored(spec, rows: ["a": Self.row(.running, at: now)], now: now, startedAgo: 400))
        #expect(h.spawns(of: "a").isEmpty)
        #expect(h.spawns(of: "b").isEmpty)
        #expect(h.status("a") == .skipped)
        #expect(h.reason("a") == "run timed out")
        #expect(h.liveNames() == ["teardown"])
        #expect(h.engine.runs["r1"]?.runUpdate.deadlineHit == true)
        h.exit("teardown")
        #expect(h.runStatus() == .timedOut)
    }

    @Test func persistedRetryIsDueAtItsOriginalTime() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(tasks: [Fx.task("t", retries: 2, retryDelay: 30)])
        h.add(
            Self.restored(
                spec,
                rows: [
                    "t": Self.row(
                        .pending, attempt: 1, at: now, failures: 1, retryAt: now.addingTimeInterval(12))
                ], now: now))
        #expect(h.spawns.isEmpty)
        #expect(h.nextWake == 12)
        h.advance(to: 12)
        #expect(h.spawns(of: "t").map(\.attempt) == [2])
        h.exit("t", code: 1)
        // One failure was persisted: this is the second, one retry is left.
        #expect(h.status("t") == .pending)
        #expect(h.nextWake == 42)
    }

    @Test func restoredFinishedRunStaysFinished() {
        var h = EngineHarness()
        let now = h.now
        let spec = WorkflowSpec(tasks: [Fx.task("a")])
        h.add(Self.restored(spec, rows: ["a": Self.row(.succeeded, exitCode: 0, at: now)], now: now))
        #expect(h.spawns.isEmpty)
        #expect(h.runStatus() == .succeeded)
    }
}
