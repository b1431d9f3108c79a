import Foundation

/// What the cron ticker does about one scheduled instant of a workflow.
public enum CronDecision: Sendable, Equatable {
    /// Create and start the run for this instant (trigger `cron`, run key from the
    /// workflow and the instant); the watermark moves to it in the same transaction.
    case fire(Date)
    /// Handle the instant without a run (`missed: skip`, `overlap: skip`, or a waiting
    /// fire that a newer one replaced): only the watermark moves.
    case skip(Date)
    /// Keep the instant as the workflow's one waiting fire (`overlap: queue`), started once
    /// its active runs have ended. Nothing is persisted: after a restart the instant is due
    /// again and the `missed` policy decides.
    case queue(Date)
    /// Cancel these runs (`overlap: replace`), then fire the instant.
    case replace(Date, cancelling: [String])
}

/// The scheduled instants of one workflow that are due at some `now`.
public struct CronDue: Sendable, Equatable {
    /// The latest instant that is more than `lateAfter` overdue; every instant before it is
    /// overdue too and is covered by the decision about this one (`missed` policy).
    public var missed: Date?
    /// The instants due in the last `lateAfter` seconds, oldest first: on time.
    public var onTime: [Date]

    public init(missed: Date? = nil, onTime: [Date] = []) {
        self.missed = missed
        self.onTime = onTime
    }

    public var isEmpty: Bool { missed == nil && onTime.isEmpty }
}

/// The decisions about one workflow at one tick, and its waiting fire afterwards.
public struct CronPlan: Sendable, Equatable {
    /// To carry out in order.
    public var decisions: [CronDecision]
    /// The `overlap: queue` fire that waits for the active runs to end, if any.
    public var waiting: Date?

    public init(decisions: [CronDecision] = [], waiting: Date? = nil) {
        self.decisions = decisions
        self.waiting = waiting
    }
}

/// The pure rules of cron repetition (SPEC §4 `schedule`): which instants are due, which
/// count as missed, and what `missed` and `overlap` make of them. No clock, no I/O: the
/// ticker passes `now`, the workflow's record and its active runs, and carries out the
/// decisions.
///
/// Rules:
/// - An instant is a fire time of the cron expression in the schedule's zone (DST rules
///   of `CronExpression`). Only instants strictly after the floor are due: the floor is
///   the watermark (`lastFiredAt`), never earlier than the workflow's creation or last
///   update (a new, edited or resumed workflow does not fire for times before that), nor
///   than its waiting fire.
/// - An instant due more than `lateAfter` seconds ago (the server was down, or asleep) is
///   missed. Of all missed instants only the latest counts: `missed: run_once` fires it,
///   `missed: skip` moves the watermark past it without a run. Instants due less than
///   `lateAfter` ago are on time and fire, in order.
/// - Each fire meets `overlap` when a run of the workflow is queued or running (a run
///   fired earlier in the same tick counts): `allow` fires anyway; `skip` skips it;
///   `queue` makes it the one waiting fire (a newer one replaces it, the older is
///   skipped), fired once nothing runs; `replace` cancels the active runs and fires (of
///   several instants in one tick, all but the latest are skipped).
/// - A disabled schedule or a paused workflow has nothing due and no waiting fire.
public enum CronPlanner {
    /// How late an instant may be and still count as on time: the "within one second of
    /// its time" of SPEC §4.
    public static let defaultLateAfter: TimeInterval = 1

    /// The run key of a cron fire: unique per workflow and instant (milliseconds since the
    /// epoch), so that no instant can create two runs.
    public static func runKey(workflow: String, instant: Date) -> String {
        "cron:\(workflow):\(Int64((instant.timeIntervalSince1970 * 1000).rounded()))"
    }

    /// Whether `workflow` fires on cron at all.
    public static func isScheduled(_ workflow: WorkflowRecord) -> Bool {
        guard let schedule = workflow.schedule else { return false }
        return schedule.enabled && !workflow.paused
    }

    /// Nothing at or before this instant may fire for `workflow`.
    public static func floor(of workflow: WorkflowRecord, waiting: Date? = nil) -> Date {
        max(workflow.lastFiredAt ?? workflow.createdAt, workflow.createdAt, workflow.updatedAt, waiting ?? .distantPast)
    }

    /// Everything about one workflow at `now`. `activeRuns`: its queued and running runs.
    public static func plan(
        _ workflow: WorkflowRecord, now: Date, activeRuns: [String], waiting: Date?,
        lateAfter: TimeInterval = defaultLateAfter
    ) -> CronPlan {
        guard let schedule = workflow.schedule, isScheduled(workflow) else { return CronPlan() }
        let due = self.due(schedule, after: floor(of: workflow, waiting: waiting), now: now, lateAfter: lateAfter)
        return decide(due, schedule: schedule, activeRuns: activeRuns, waiting: waiting)
    }

    /// When the ticker must look at `workflow` again (its next instant after `now`), or nil
    /// when it never fires on its own.
    public static func nextWake(_ workflow: WorkflowRecord, now: Date, waiting: Date? = nil) -> Date? {
        guard let schedule = workflow.schedule, isScheduled(workflow) else { return nil }
        let after = max(floor(of: workflow, waiting: waiting), now)
        return schedule.cron.nextFire(after: after, in: schedule.timeZone)
    }
}
