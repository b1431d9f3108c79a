import BatonCore
import BatonStorage
import Foundation
import Testing

@testable import BatonRunner

/// The cron ticker's loop over a real SQLite store with a fake clock and a recording
/// control: it carries out the planner's decisions (keyed inserts, watermark, submit,
/// cancel) and never fires an instant twice.
@Suite struct CronTickerLoopTests {
    private typealias F = CronTickerFixture

    @Test func aDueInstantFiresOnceAcrossTicksAndRestarts() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", created: F.at("2026-05-01T10:00:00.5Z"))
        let wake = fixture.loop.tick(now: F.at("2026-05-01T10:00:00.6Z"))
        #expect(wake == F.at("2026-05-01T10:00:01Z"))
        #expect(fixture.control.submitted.isEmpty)

        #expect(fixture.loop.tick(now: F.at("2026-05-01T10:00:01.01Z")) == F.at("2026-05-01T10:00:02Z"))
        #expect(fixture.control.scheduled == [F.at("2026-05-01T10:00:01Z")])
        let run = try #require(fixture.control.submitted.first)
        #expect(run.workflow == "w")
        #expect(try fixture.store.run(id: run.id)?.trigger == .cron(scheduledAt: F.at("2026-05-01T10:00:01Z")))
        let stored = try #require(try fixture.store.workflow(name: "w"))
        #expect(stored.lastFiredAt == F.at("2026-05-01T10:00:01Z"))
        #expect(stored.lastRunID == run.id)

        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.5Z"))
        fixture.restart()
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.9Z"))
        #expect(fixture.control.submitted.count == 1, "no second fire for 10:00:01")
    }

    @Test func anInstantWhoseKeyExistsIsNotStartedAgain() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", overlap: .allow, created: F.at("2026-05-01T10:00:00Z"))
        // The run of 10:00:01 is in the store already, without its watermark.
        let instant = F.at("2026-05-01T10:00:01Z")
        let spec = WorkflowSpec(name: "w", tasks: [TaskSpec(name: "t", command: .shell("true"))])
        let key = CronPlanner.runKey(workflow: "w", instant: instant)
        let other = NewRun(spec: spec, workflow: "w", trigger: .cron(scheduledAt: instant), now: instant)
        #expect(try fixture.store.insertKeyedRun(other.record, tasks: other.tasks, key: key, firedAt: nil) == .inserted)
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.2Z"))
        #expect(fixture.control.submitted.isEmpty)
        #expect(try fixture.store.workflow(name: "w")?.lastFiredAt == instant, "the watermark caught up")
        #expect(fixture.loop.tick(now: F.at("2026-05-01T10:00:01.3Z")) == F.at("2026-05-01T10:00:02Z"))
    }

    @Test func overlapSkipMovesTheWatermarkWithoutARun() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", created: F.at("2026-05-01T10:00:00Z"))
        try fixture.addActiveRun("w")
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.1Z"))
        #expect(fixture.control.submitted.isEmpty)
        #expect(try fixture.store.workflow(name: "w")?.lastFiredAt == F.at("2026-05-01T10:00:01Z"))
    }

    @Test func overlapQueueStartsTheWaitingFireOnceTheActiveRunEnds() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", overlap: .queue, created: F.at("2026-05-01T10:00:00Z"))
        let active = try fixture.addActiveRun("w")
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.1Z"))
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:02.1Z"))
        #expect(fixture.control.submitted.isEmpty)
        #expect(fixture.loop.hasWaiting)
        try fixture.finish(active)
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:02.4Z"))
        #expect(fixture.control.scheduled == [F.at("2026-05-01T10:00:02Z")], "the newest waiting instant")
        #expect(!fixture.loop.hasWaiting)
        #expect(try fixture.store.workflow(name: "w")?.lastFiredAt == F.at("2026-05-01T10:00:02Z"))
    }

    @Test func overlapReplaceCancelsOnceThenFires() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", overlap: .replace, created: F.at("2026-05-01T10:00:00Z"))
        let active = try fixture.addActiveRun("w")
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.1Z"))
        #expect(fixture.control.cancelled == [active])
        #expect(fixture.control.scheduled == [F.at("2026-05-01T10:00:01Z")])
        // The replaced run is still stopping at the next instant: not cancelled twice.
        let fired = try #require(fixture.control.submitted.first?.id)
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:02.1Z"))
        #expect(
            fixture.control.cancelled == [active, fired],
            "the run fired at 10:00:01 is replaced, the first is not cancelled again")
    }

    @Test func aLongDowntimeRunsOnceOrSkipsByPolicy() throws {
        let fixture = try F()
        try fixture.addWorkflow("once", cron: "0 * * * *", created: F.at("2026-05-01T08:30:00Z"))
        try fixture.addWorkflow("never", cron: "0 * * * *", missed: .skip, created: F.at("2026-05-01T08:30:00Z"))
        _ = fixture.loop.tick(now: F.at("2026-05-01T14:30:00Z"))
        #expect(fixture.control.submitted.map(\.workflow) == ["once"])
        #expect(fixture.control.scheduled == [F.at("2026-05-01T14:00:00Z")])
        #expect(try fixture.store.workflow(name: "never")?.lastFiredAt == F.at("2026-05-01T14:00:00Z"))
    }

    @Test func pausedAndDeletedWorkflowsStopFiring() throws {
        let fixture = try F()
        try fixture.addWorkflow("w", cron: "* * * * * *", created: F.at("2026-05-01T10:00:00Z"))
        _ = try fixture.store.setPaused(name: "w", paused: true)
        #expect(fixture.loop.tick(now: F.at("2026-05-01T10:00:05Z")) == nil)
        _ = try fixture.store.deleteWorkflow(name: "w")
        #expect(fixture.loop.tick(now: F.at("2026-05-01T10:00:06Z")) == nil)
        #expect(fixture.control.submitted.isEmpty)
    }

    @Test func aThousandWorkflowsFireInOneTick() throws {
        let fixture = try F()
        for index in 0..<1000 {
            try fixture.addWorkflow(
                "w\(index)", cron: "@every 1s", overlap: .allow, created: F.at("2026-05-01T10:00:00Z"))
        }
        let clock = ContinuousClock()
        let started = clock.now
        _ = fixture.loop.tick(now: F.at("2026-05-01T10:00:01.001Z"))
        let elapsed = clock.now - started
        #expect(fixture.control.submitted.count == 1000)
        // A generous bound for a debug build on a loaded machine; see bench/ for real numbers.
        #expect(elapsed < .seconds(10), "one tick of 1,000 fires took \(elapsed)")
        print("cron tick of 1000 fires: \(elapsed)")
    }
}
