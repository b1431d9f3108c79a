import Foundation
import Testing

@testable import BatonCore

/// The planner across daylight saving changes in Europe/Paris (fixed dates): a skipped
/// local time never becomes due, a repeated one fires once, even when the ticker looks
/// again during the second pass.
@Suite struct CronPlannerDaylightTests {
    private typealias S = CronPlannerSupport

    @Test func springForwardSkipsTheMissingLocalTime() throws {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
        let schedule = try S.schedule("30 2 * * *", zone: "Europe/Paris")
        var workflow = S.workflow(
            schedule, created: "2026-03-27T12:00:00+01:00", lastFired: "2026-03-28T02:30:00+01:00")
        let now = S.at("2026-03-29T12:00:00+02:00")
        #expect(CronPlanner.plan(workflow, now: now, activeRuns: [], waiting: nil).decisions.isEmpty)
        #expect(CronPlanner.nextWake(workflow, now: now) == S.at("2026-03-30T02:30:00+02:00"))
        workflow.lastFiredAt = nil
        let hourly = S.workflow(try S.schedule("0 * * * *", zone: "Europe/Paris"), created: "2026-03-29T01:30:00+01:00")
        #expect(
            CronPlanner.nextWake(hourly, now: S.at("2026-03-29T01:30:00+01:00")) == S.at("2026-03-29T03:00:00+02:00"))
        let plan = CronPlanner.plan(hourly, now: S.at("2026-03-29T03:00:00.2+02:00"), activeRuns: [], waiting: nil)
        #expect(S.describe(plan, zone: "Europe/Paris") == ["fire 2026-03-29T03:00:00+02:00"])
    }

    @Test func fallBackFiresTheRepeatedTimeOnce() throws {
        // 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        let workflow = S.workflow(
            try S.schedule("30 2 * * *", zone: "Europe/Paris"), created: "2026-10-24T12:00:00+02:00",
            lastFired: "2026-10-25T02:30:00+02:00")
        // The ticker looks during the second 02:30 (CET): nothing is due.
        let secondPass = S.at("2026-10-25T02:30:00.3+01:00")
        #expect(CronPlanner.plan(workflow, now: secondPass, activeRuns: [], waiting: nil).decisions.isEmpty)
        #expect(CronPlanner.nextWake(workflow, now: secondPass) == S.at("2026-10-26T02:30:00+01:00"))
        // Fired at the first pass from a watermark the day before.
        let before = S.workflow(
            try S.schedule("30 2 * * *", zone: "Europe/Paris"), created: "2026-10-24T12:00:00+02:00")
        let first = CronPlanner.plan(before, now: S.at("2026-10-25T02:30:00.1+02:00"), activeRuns: [], waiting: nil)
        #expect(S.describe(first, zone: "Europe/Paris") == ["fire 2026-10-25T02:30:00+02:00"])
    }

    @Test func aDowntimeOverTheRepeatedHourCountsEachInstantOnce() throws {
        // `*/30 * * * *` from 01:45 CEST to 03:10 CET: instants 02:00, 02:30 CEST and 03:00 CET
        // (the second pass through 02:xx fires nothing). Missed: the latest is 03:00 CET.
        let schedule = try S.schedule("*/30 * * * *", zone: "Europe/Paris")
        let due = CronPlanner.due(
            schedule, after: S.at("2026-10-25T01:45:00+02:00"), now: S.at("2026-10-25T03:10:00+01:00"))
        #expect(due == CronDue(missed: S.at("2026-10-25T03:00:00+01:00")))
        let beforeIt = CronPlanner.due(
            schedule, after: S.at("2026-10-25T01:45:00+02:00"), now: S.at("2026-10-25T02:50:00+01:00"))
        #expect(beforeIt == CronDue(missed: S.at("2026-10-25T02:30:00+02:00")))
    }
}
