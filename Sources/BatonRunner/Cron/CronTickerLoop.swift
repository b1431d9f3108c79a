import BatonCore
import Foundation
import Logging

/// The ticker thread's state: the waiting `overlap: queue` fires and parsed specs.
///
/// `@unchecked Sendable`: built before the thread starts and touched by the ticker thread
/// alone afterwards (`CronTicker` only reads it from that thread).
final class CronTickerLoop: @unchecked Sendable {
    let store: any CronTicker.Store
    let control: any RunControl
    let logger: Logger
    let cores: Int
    let lateAfter: TimeInterval
    /// Per workflow: the instant that waits for the active runs to end (never persisted).
    private(set) var waiting: [String: Date] = [:]
    /// Runs cancelled by `overlap: replace` that are still stopping: not cancelled twice
    /// (a second cancel would also stop their `runalways` groups), no longer counted as active.
    private var replaced: Set<String> = []
    /// Per workflow: the spec JSON last parsed and its result.
    private var specs: [String: (json: Data, spec: WorkflowSpec)] = [:]

    let onFire: @Sendable (String, CronOutcome, Double?) -> Void

    init(
        store: any CronTicker.Store, control: any RunControl, logger: Logger, cores: Int, lateAfter: TimeInterval,
        onFire: @escaping @Sendable (String, CronOutcome, Double?) -> Void = { _, _, _ in }
    ) {
        self.onFire = onFire
        self.store = store
        self.control = control
        self.logger = logger
        self.cores = cores
        self.lateAfter = lateAfter
    }

    var hasWaiting: Bool { !waiting.isEmpty }

    /// Handles every due instant at `now`; returns when to look again (nil: nothing is
    /// scheduled). Gives up between two workflows once `stopping` says so (a tick of
    /// thousands of fires must not hold up a shutdown; what it left is due on restart).
    func tick(now: Date, stopping: () -> Bool = { false }) -> Date? {
        let workflows: [WorkflowRecord]
        do {
            workflows = try store.workflows()
        } catch {
            logger.error("cron: cannot read the workflows", metadata: ["error": "\(error)"])
            return now.addingTimeInterval(1)
        }
        let names = Set(workflows.map(\.name))
        waiting = waiting.filter { names.contains($0.key) }
        specs = specs.filter { names.contains($0.key) }
        var active: [String: [String]]?
        var next: Date?
        for workflow in workflows {
            if stopping() { return nil }
            guard let schedule = workflow.schedule, CronPlanner.isScheduled(workflow) else {
                waiting[workflow.name] = nil
                continue
            }
            let held = waiting[workflow.name]
            let floor = CronPlanner.floor(of: workflow, waiting: held)
            let due = CronPlanner.due(schedule, after: floor, now: now, lateAfter: lateAfter)
            if !due.isEmpty || held != nil {
                if active == nil { active = activeRuns() }
                let plan = CronPlanner.decide(
                    due, schedule: schedule, activeRuns: active?[workflow.name] ?? [], waiting: held)
                waiting[workflow.name] = plan.waiting
                if let queued = plan.waiting, queued != held { onFire(workflow.name, .queued, nil) }
                for decision in plan.decisions { carryOut(decision, workflow: workflow, now: now) }
            }
            if let wake = CronPlanner.nextWake(workflow, now: now, waiting: waiting[workflow.name]) {
                next = min(next ?? wake, wake)
            }
        }
        return next
    }

    /// Queued and running runs by workflow, less those being replaced: one query, on the
    /// status index.
    private func activeRuns() -> [String: [String]] {
        do {
            var byWorkflow: [String: [String]] = [:]
            var stillStopping: Set<String> = []
            for (workflow, runIDs) in try store.activeRunIDsByWorkflow() {
                for runID in runIDs {
                    if replaced.contains(runID) {
                        stillStopping.insert(runID)
                    } else {
                        byWorkflow[workflow, default: []].append(runID)
                    }
                }
            }
            replaced = stillStopping
            return byWorkflow
        } catch {
            logger.error("cron: cannot read the active runs", metadata: ["error": "\(error)"])
            return [:]
        }
    }

    private func carryOut(_ decision: CronDecision, workflow: WorkflowRecord, now: Date) {
        do {
            switch decision {
            case .fire(let instant):
                try fire(workflow, at: instant, outcome: .started)
            case .skip(let instant):
                try store.markFired(name: workflow.name, at: instant)
                onFire(workflow.name, .skipped, nil)
                logger.info(
                    "cron: instant skipped",
                    metadata: ["workflow": "\(workflow.name)", "scheduled_at": "\(Timestamp.format(instant))"])
            case .queue(let instant):
                logger.info(
                    "cron: fire waits for the active run",
                    metadata: ["workflow": "\(workflow.name)", "scheduled_at": "\(Timestamp.format(instant))"])
            case .replace(let instant, let runIDs):
                for runID in runIDs {
                    _ = control.cancel(runID: runID)
                    replaced.insert(runID)
                    logger.info("cron: run replaced", metadata: ["workflow": "\(workflow.name)", "run": "\(runID)"])
                }
                try fire(workflow, at: instant, outcome: .replaced)
            }
        } catch {
            logger.error(
                "cron: fire failed", metadata: ["workflow": "\(workflow.name)", "error": "\(error)"])
        }
    }

    /// Inserts the run of `instant` under its unique key (moving the watermark), then
    /// starts it. A key already present means the instant was fired before: nothing runs.
    private func fire(_ workflow: WorkflowRecord, at instant: Date, outcome: CronOutcome) throws {
        let spec = try self.spec(of: workflow)
        let run = NewRun(spec: spec, workflow: workflow.name, trigger: .cron(scheduledAt: instant), now: Date())
        let key = CronPlanner.runKey(workflow: workflow.name, instant: instant)
        switch try RunCreator(store: store, control: control).create(run.record, spec: spec, key: key, firedAt: instant)
        {
        case .duplicate(let existing):
            // Its insert moved the watermark already; this only guards against re-planning it.
            try store.markFired(name: workflow.name, at: instant)
            onFire(workflow.name, .duplicate, nil)
            logger.info(
                "cron: instant already fired", metadata: ["workflow": "\(workflow.name)", "run": "\(existing)"])
        case .inserted:
            if waiting[workflow.name] == instant { waiting[workflow.name] = nil }
            onFire(workflow.name, outcome, run.record.createdAt.timeIntervalSince(instant))
            logger.info(
                "cron: fired",
                metadata: [
                    "workflow": "\(workflow.name)", "run": "\(run.record.id)",
                    "scheduled_at": "\(Timestamp.format(instant))",
                    "lag_ms": "\(Int((run.record.createdAt.timeIntervalSince(instant) * 1000).rounded()))",
                ])
        }
    }

    private func spec(of workflow: WorkflowRecord) throws -> WorkflowSpec {
        if let cached = specs[workflow.name], cached.json == workflow.specJSON { return cached.spec }
        let spec = try SpecParser.parse(workflow.specJSON, format: .json, cores: cores, maxTasks: Int.max)
        specs[workflow.name] = (workflow.specJSON, spec)
        return spec
    }
}
