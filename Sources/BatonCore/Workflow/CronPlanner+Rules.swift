import Foundation

extension CronPlanner {
    /// The instants of `schedule` in `(floor, now]`, split into the latest missed one (due
    /// more than `lateAfter` before `now`) and those on time.
    ///
    /// Cost: a bisection over the overdue span (about 40 next-fire searches for years of
    /// downtime) and one search per on-time instant; never a walk over every missed one.
    public static func due(
        _ schedule: Schedule, after floor: Date, now: Date, lateAfter: TimeInterval = defaultLateAfter
    ) -> CronDue {
        let cron = schedule.cron
        let zone = schedule.timeZone
        guard let first = cron.nextFire(after: floor, in: zone), first <= now else { return CronDue() }
        var due = CronDue()
        var cursor = floor
        // Fire times are whole seconds: the missed ones are those at or before `lastMissed`.
        let lastMissed = (now.timeIntervalSince1970 - lateAfter).rounded(.up) - 1
        if first.timeIntervalSince1970 <= lastMissed {
            let missed = latestFire(cron, in: zone, from: first, notAfter: lastMissed)
            due.missed = missed
            cursor = missed
        }
        while let next = cron.nextFire(after: cursor, in: zone), next <= now {
            due.onTime.append(next)
            cursor = next
        }
        return due
    }

    /// The latest fire time at or before second `limit`, given `first`, a fire time at or
    /// before it. Bisection on `t ↦ nextFire(after: t)`, which never decreases.
    static func latestFire(_ cron: CronExpression, in zone: TimeZone, from first: Date, notAfter limit: Double) -> Date
    {
        // Invariant: next(after: low) <= limit < next(after: high) (nil counts as beyond).
        // At the end `high == low + 1`: no fire in (low + 1, limit], so the first fire after
        // `low` is the latest one.
        var low = first.timeIntervalSince1970 - 1
        var high = limit
        var latest = first
        while high - low > 1 {
            let middle = ((low + high) / 2).rounded(.down)
            if let fire = cron.nextFire(after: Date(timeIntervalSince1970: middle), in: zone),
                fire.timeIntervalSince1970 <= limit
            {
                low = middle
                latest = fire
            } else {
                high = middle
            }
        }
        return latest
    }

    /// Applies the `missed` and `overlap` policies to due instants. `activeRuns`: the
    /// workflow's queued and running runs; `waiting`: its current waiting fire.
    public static func decide(
        _ due: CronDue, schedule: Schedule, activeRuns: [String], waiting: Date?
    ) -> CronPlan {
        var plan = CronPlan()
        var candidates: [Date] = []
        if let missed = due.missed {
            switch schedule.missed {
            case .runOnce: candidates.append(missed)
            case .skip: plan.decisions.append(.skip(missed))
            }
        }
        candidates += due.onTime
        var busy = !activeRuns.isEmpty
        if let waiting {
            if schedule.overlap != .queue {
                plan.decisions.append(.skip(waiting))  // the policy changed since it was queued
            } else if busy {
                plan.waiting = waiting
            } else {
                plan.decisions.append(.fire(waiting))
                busy = true
            }
        }
        switch schedule.overlap {
        case .allow:
            plan.decisions += candidates.map(CronDecision.fire)
        case .skip:
            for instant in candidates {
                plan.decisions.append(busy ? .skip(instant) : .fire(instant))
                busy = true
            }
        case .queue:
            for instant in candidates {
                if busy {
                    if let older = plan.waiting { plan.decisions.append(.skip(older)) }
                    plan.waiting = instant
                    plan.decisions.append(.queue(instant))
                } else {
                    plan.decisions.append(.fire(instant))
                    busy = true
                }
            }
        case .replace:
            guard let latest = candidates.last else { break }
            plan.decisions += candidates.dropLast().map(CronDecision.skip)
            plan.decisions.append(activeRuns.isEmpty ? .fire(latest) : .replace(latest, cancelling: activeRuns))
        }
        return plan
    }
}
