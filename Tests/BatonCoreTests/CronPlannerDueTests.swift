import Foundation
import Testing

@testable import BatonCore

/// Which instants are due, which are missed, and when to wake: `CronPlanner` with a fake
/// clock.
@Suite struct CronPlannerDueTests {
    private typealias S = CronPlannerSupport

    @Test func nothingIsDueBeforeTheFirstInstant() throws {
        let workflow = S.workflow(try S.schedule("0 * * * *"), created: "2026-05-01T10:20:00Z")
        let plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T10:59:59.999Z"), activeRuns: [], waiting: nil)
        #expect(plan == CronPlan())
        #expect(CronPlanner.nextWake(workflow, now: S.at("2026-05-01T10:30:00Z")) == S.at("2026-05-01T11:00:00Z"))
    }

    @Test func anInstantFiresOnceItIsDueAndNotAgain() throws {
        var workflow = S.workflow(try S.schedule("0 * * * *"), created: "2026-05-01T10:20:00Z")
        let now = S.at("2026-05-01T11:00:00.004Z")
        let plan = CronPlanner.plan(workflow, now: now, activeRuns: [], waiting: nil)
        #expect(S.describe(plan) == ["fire 2026-05-01T11:00:00Z"])
        workflow.lastFiredAt = S.at("2026-05-01T11:00:00Z")
        #expect(CronPlanner.plan(workflow, now: now, activeRuns: [], waiting: nil) == CronPlan())
        #expect(CronPlanner.nextWake(workflow, now: now) == S.at("2026-05-01T12:00:00Z"))
    }

    @Test func aNewWorkflowDoesNotFireForTimesBeforeItExisted() throws {
        // Created at 10:59:30: the 10:00 and earlier instants are not its business.
        let workflow = S.workflow(try S.schedule("0 * * * *"), created: "2026-05-01T10:59:30Z")
        let plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T10:59:31Z"), activeRuns: [], waiting: nil)
        #expect(plan.decisions.isEmpty)
        // Created exactly on an instant: that instant is not after the creation.
        let onTheHour = S.workflow(try S.schedule("0 * * * *"), created: "2026-05-01T11:00:00Z")
        #expect(
            CronPlanner.plan(onTheHour, now: S.at("2026-05-01T11:00:00.5Z"), activeRuns: [], waiting: nil).decisions
                .isEmpty)
    }

    @Test func anEditedOrResumedWorkflowDoesNotCatchUpBeforeTheChange() throws {
        var workflow = S.workflow(
            try S.schedule("* * * * *"), created: "2026-05-01T08:00:00Z", lastFired: "2026-05-01T09:00:00Z")
        workflow.updatedAt = S.at("2026-05-01T12:00:10Z")  // resumed after a long pause
        let plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T12:00:30Z"), activeRuns: [], waiting: nil)
        #expect(plan.decisions.isEmpty)
        #expect(CronPlanner.nextWake(workflow, now: S.at("2026-05-01T12:00:30Z")) == S.at("2026-05-01T12:01:00Z"))
    }

    @Test func onTimeMeansAtMostOneSecondLate() throws {
        let schedule = try S.schedule("* * * * * *")
        let floor = S.at("2026-05-01T10:00:00Z")
        // 10:00:01 is exactly one second late: on time. Nothing is missed.
        #expect(
            CronPlanner.due(schedule, after: floor, now: S.at("2026-05-01T10:00:02Z"))
                == CronDue(onTime: [S.at("2026-05-01T10:00:01Z"), S.at("2026-05-01T10:00:02Z")]))
        // At 10:00:02.5, 10:00:01 is 1.5 s late: missed.
        #expect(
            CronPlanner.due(schedule, after: floor, now: S.at("2026-05-01T10:00:02.5Z"))
                == CronDue(missed: S.at("2026-05-01T10:00:01Z"), onTime: [S.at("2026-05-01T10:00:02Z")]))
    }

    @Test func aLongDowntimeFindsTheLatestMissedInstantWithoutWalkingThemAll() throws {
        // Ten years of every-second instants: found by bisection, fast.
        let schedule = try S.schedule("* * * * * *")
        let clock = ContinuousClock()
        let started = clock.now
        let due = CronPlanner.due(schedule, after: S.at("2016-01-01T00:00:00Z"), now: S.at("2026-01-01T00:00:00.5Z"))
        #expect(clock.now - started < .seconds(1), "bisection, not a walk")
        #expect(due == CronDue(missed: S.at("2025-12-31T23:59:59Z"), onTime: [S.at("2026-01-01T00:00:00Z")]))
        // A calendar schedule: the latest weekday 09:00 before a Monday 08:00.
        let weekdays = try S.schedule("0 9 * * MON-FRI", zone: "Europe/Paris")
        let missed = CronPlanner.due(
            weekdays, after: S.at("2026-04-01T00:00:00+02:00"), now: S.at("2026-04-13T08:00:00+02:00"))
        #expect(missed == CronDue(missed: S.at("2026-04-10T09:00:00+02:00")))
    }

    @Test func disabledOrPausedWorkflowsNeverFireNorWake() throws {
        let disabled = S.workflow(try S.schedule("* * * * * *", enabled: false), created: "2026-05-01T10:00:00Z")
        let paused = S.workflow(try S.schedule("* * * * * *"), created: "2026-05-01T10:00:00Z", paused: true)
        let unscheduled = S.workflow(nil, created: "2026-05-01T10:00:00Z")
        for workflow in [disabled, paused, unscheduled] {
            #expect(
                CronPlanner.plan(workflow, now: S.at("2026-05-01T11:00:00Z"), activeRuns: [], waiting: nil)
                    == CronPlan())
            #expect(CronPlanner.nextWake(workflow, now: S.at("2026-05-01T11:00:00Z")) == nil)
        }
    }

    @Test func aWatermarkAheadOfTheClockHoldsFiresBack() throws {
        // The wall clock stepped back an hour: instants up to the watermark never fire again.
        let workflow = S.workflow(
            try S.schedule("*/10 * * * *"), created: "2026-05-01T08:00:00Z", lastFired: "2026-05-01T11:00:00Z")
        #expect(
            CronPlanner.plan(workflow, now: S.at("2026-05-01T10:30:00Z"), activeRuns: [], waiting: nil).decisions
                .isEmpty)
        #expect(CronPlanner.nextWake(workflow, now: S.at("2026-05-01T10:30:00Z")) == S.at("2026-05-01T11:10:00Z"))
    }

    @Test func runKeysNameTheWorkflowAndTheInstantInMilliseconds() {
        #expect(
            CronPlanner.runKey(workflow: "nightly", instant: S.at("2026-05-01T11:00:00Z"))
                == "cron:nightly:1777633200000")
    }
}
