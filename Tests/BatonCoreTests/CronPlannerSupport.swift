import Foundation
import Testing

@testable import BatonCore

/// A fake clock and workflow records for the planner tests: instants are RFC 3339 texts,
/// no time passes unless a test says so.
enum CronPlannerSupport {
    static func at(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Date {
        CronTestSupport.instant(text, sourceLocation: sourceLocation)
    }

    static func schedule(
        _ cron: String, zone: String = "UTC", overlap: OverlapPolicy = .skip, missed: MissedPolicy = .runOnce,
        enabled: Bool = true
    ) throws -> Schedule {
        Schedule(
            cron: try CronExpression.parse(cron), timezone: zone, overlap: overlap, missed: missed, enabled: enabled)
    }

    /// A workflow created (and last updated) at `created`, with watermark `lastFired`.
    static func workflow(
        _ schedule: Schedule?, created: String, lastFired: String? = nil, paused: Bool = false
    ) -> WorkflowRecord {
        WorkflowRecord(
            name: "w", specJSON: Data("{}".utf8), schedule: schedule, paused: paused, createdAt: at(created),
            updatedAt: at(created), lastFiredAt: lastFired.map { at($0) })
    }

    /// The decisions as readable texts in the schedule's zone: `fire 03:00:00+02:00` style.
    static func describe(_ plan: CronPlan, zone: String = "UTC") -> [String] {
        let zone = CronTestSupport.zone(zone)
        func text(_ date: Date) -> String { CronTestSupport.text(date, in: zone) }
        return plan.decisions.map { decision in
            switch decision {
            case .fire(let date): return "fire \(text(date))"
            case .skip(let date): return "skip \(text(date))"
            case .queue(let date): return "queue \(text(date))"
            case .replace(let date, let runs): return "replace \(text(date)) cancelling \(runs.joined(separator: ","))"
            }
        }
    }
}
