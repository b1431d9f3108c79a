import Foundation
import Testing

@testable import BatonCore

/// `missed` and `overlap` (SPEC §4 `schedule`), decided by the pure planner.
@Suite struct CronPlannerPolicyTests {
    private typealias S = CronPlannerSupport

    /// An hourly workflow last fired at 10:00; the server was down until 15:00:00.4.
    private func afterDowntime(missed: MissedPolicy, overlap: OverlapPolicy = .allow, active: [String] = []) throws
        -> [String]
    {
        let workflow = S.workflow(
            try S.schedule("0 * * * *", overlap: overlap, missed: missed), created: "2026-05-01T08:00:00Z",
            lastFired: "2026-05-01T10:00:00Z")
        let plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T15:00:00.4Z"), activeRuns: active, waiting: nil)
        return S.describe(plan)
    }

    @Test func missedRunOnceFiresTheLatestMissedInstantOnly() throws {
        #expect(try afterDowntime(missed: .runOnce) == ["fire 2026-05-01T14:00:00Z", "fire 2026-05-01T15:00:00Z"])
    }

    @Test func missedSkipMovesTheWatermarkWithoutARun() throws {
        #expect(try afterDowntime(missed: .skip) == ["skip 2026-05-01T14:00:00Z", "fire 2026-05-01T15:00:00Z"])
        // Nothing on time: only the skip.
        let workflow = S.workflow(
            try S.schedule("0 * * * *", missed: .skip), created: "2026-05-01T08:00:00Z",
            lastFired: "2026-05-01T10:00:00Z")
        let plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T14:30:00Z"), activeRuns: [], waiting: nil)
        #expect(S.describe(plan) == ["skip 2026-05-01T14:00:00Z"])
        #expect(CronPlanner.nextWake(workflow, now: S.at("2026-05-01T14:30:00Z")) == S.at("2026-05-01T15:00:00Z"))
    }

    @Test func overlapSkipDropsFiresWhileARunIsActive() throws {
        #expect(
            try afterDowntime(missed: .runOnce, overlap: .skip, active: ["r1"])
                == ["skip 2026-05-01T14:00:00Z", "skip 2026-05-01T15:00:00Z"])
        // The catch-up run itself counts as active for the on-time instant.
        #expect(
            try afterDowntime(missed: .runOnce, overlap: .skip) == [
                "fire 2026-05-01T14:00:00Z", "skip 2026-05-01T15:00:00Z",
            ])
    }

    @Test func overlapAllowFiresAlongside() throws {
        #expect(
            try afterDowntime(missed: .runOnce, overlap: .allow, active: ["r1"])
                == ["fire 2026-05-01T14:00:00Z", "fire 2026-05-01T15:00:00Z"])
    }

    @Test func overlapReplaceCancelsTheActiveRunsThenFiresTheLatest() throws {
        #expect(
            try afterDowntime(missed: .runOnce, overlap: .replace, active: ["r1", "r2"])
                == ["skip 2026-05-01T14:00:00Z", "replace 2026-05-01T15:00:00Z cancelling r1,r2"])
        #expect(
            try afterDowntime(missed: .skip, overlap: .replace) == [
                "skip 2026-05-01T14:00:00Z", "fire 2026-05-01T15:00:00Z",
            ])
    }

    @Test func overlapQueueKeepsOneWaitingFireAndStartsItWhenTheRunEnds() throws {
        let schedule = try S.schedule("* * * * * *", overlap: .queue)
        var workflow = S.workflow(schedule, created: "2026-05-01T10:00:00Z", lastFired: "2026-05-01T10:00:00Z")
        // 10:00:01 is due while r1 runs: it waits.
        var plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T10:00:01.1Z"), activeRuns: ["r1"], waiting: nil)
        #expect(S.describe(plan) == ["queue 2026-05-01T10:00:01Z"])
        #expect(plan.waiting == S.at("2026-05-01T10:00:01Z"))
        // 10:00:02 is due, r1 still runs: the newer instant replaces the waiting one.
        plan = CronPlanner.plan(
            workflow, now: S.at("2026-05-01T10:00:02.1Z"), activeRuns: ["r1"], waiting: plan.waiting)
        #expect(S.describe(plan) == ["skip 2026-05-01T10:00:01Z", "queue 2026-05-01T10:00:02Z"])
        #expect(plan.waiting == S.at("2026-05-01T10:00:02Z"))
        workflow.lastFiredAt = S.at("2026-05-01T10:00:01Z")
        // r1 ended at 10:00:02.5: the waiting instant starts, nothing else is due.
        plan = CronPlanner.plan(workflow, now: S.at("2026-05-01T10:00:02.5Z"), activeRuns: [], waiting: plan.waiting)
        #expect(S.describe(plan) == ["fire 2026-05-01T10:00:02Z"])
        #expect(plan.waiting == nil)
    }

    @Test func aWaitingFireThatNoLongerFitsThePolicyIsDropped() throws {
        let workflow = S.workflow(
            try S.schedule("0 * * * *", overlap: .skip), created: "2026-05-01T10:00:00Z",
            lastFired: "2026-05-01T11:00:00Z")
        let plan = CronPlanner.plan(
            workflow, now: S.at("2026-05-01T11:30:00Z"), activeRuns: ["r1"], waiting: S.at("2026-05-01T11:00:00Z"))
        #expect(S.describe(plan) == ["skip 2026-05-01T11:00:00Z"])
        #expect(plan.waiting == nil)
    }

    @Test func missedSkipWithQueueStillQueuesTheOnTimeInstant() throws {
        let plan = try afterDowntime(missed: .skip, overlap: .queue, active: ["r1"])
        #expect(plan == ["skip 2026-05-01T14:00:00Z", "queue 2026-05-01T15:00:00Z"])
    }
}
