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
    /// Per workflow: the spec JSON last parsed, its result, and the result's canonical
    /// JSON and digest (what each run stores).
    private var specs: [String: ParsedSpec] = [:]

    struct ParsedSpec {
        var json: Data
        var spec: WorkflowSpec
        var encoded: (json: Data, hash: String)
    }

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
        var fires: [PendingFire] = []
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
                for decision in plan.decisions { carryOut(decision, workflow: workflow, into: &fires) }
            }
            if let wake = CronPlanner.nextWake(workflow, now: now, waiting: waiting[workflow.name]) {
                next = min(next ?? wake, wake)
            }
        }
        if !fireAll(fires, stopping: stopping) { return nil }
        return next
    }

    /// A fire decided by this tick, created with the others of the tick.
    struct PendingFire {
        var workflow: WorkflowRecord
        var instant: Date
        var outcome: CronOutcome
        /// `overlap: replace`: the active runs this fire cancels.
        var replacing: [String] = []
    }

    /// Runs committed per transaction: 1,000 workflows due at one instant cost 4 commits
    /// instead of 1,000 (one commit each had put ~0.5 s between the first and the last fire),
    /// and a shutdown is noticed between two chunks.
    static let firesPerTransaction = 256

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

    private func carryOut(_ decision: CronDecision, workflow: WorkflowRecord, into fires: inout [PendingFire]) {
        do {
            switch decision {
            case .fire(let instant):
                fires.append(PendingFire(workflow: workflow, instant: instant, outcome: .started))
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
                // Cancelled only when the replacement is about to be committed (`fireAll`):
                // a shutdown in between must not leave the workflow with neither run.
                fires.append(PendingFire(workflow: workflow, instant: instant, outcome: .replaced, replacing: runIDs))
            }
        } catch {
            logger.error(
                "cron: fire failed", metadata: ["workflow": "\(workflow.name)", "error": "\(error)"])
        }
    }

    /// Inserts the run of each fire under its unique key (moving the watermark), then
    /// starts it; a key already present means the instant was fired before: nothing runs.
    /// Returns false when it stopped early for a shutdown (what is left is due on restart).
    private func fireAll(_ fires: [PendingFire], stopping: () -> Bool) -> Bool {
        var start = 0
        while start < fires.count {
            if stopping() { return false }
            let chunk = fires[start..<min(start + Self.firesPerTransaction, fires.count)]
            start = chunk.endIndex
            var parsed: [(fire: PendingFire, spec: ParsedSpec)] = []
            for fire in chunk {
                do {
                    parsed.append((fire, try spec(of: fire.workflow)))
                } catch {
                    logger.error(
                        "cron: fire failed", metadata: ["workflow": "\(fire.workflow.name)", "error": "\(error)"])
                }
            }
            for (fire, _) in parsed {
                for runID in fire.replacing {
                    _ = control.cancel(runID: runID)
                    replaced.insert(runID)
                    logger.info(
                        "cron: run replaced", metadata: ["workflow": "\(fire.workflow.name)", "run": "\(runID)"])
                }
            }
            // Stamped just before the commit: `created_at - scheduled_at` is the fire's lag.
            let now = Date()
            let batch = parsed.map { fire, spec in
                let run = NewRun(
                    spec: spec.spec, workflow: fire.workflow.name, trigger: .cron(scheduledAt: fire.instant),
                    now: now, encoded: spec.encoded)
                return (fire: fire, run: run)
            }
            let requests = batch.map { fire, run in
                RunCreator.Request(
                    record: run.record, spec: run.spec,
                    key: CronPlanner.runKey(workflow: fire.workflow.name, instant: fire.instant), firedAt: fire.instant)
            }
            let results = RunCreator(store: store, control: control).createAll(requests)
            for ((fire, run), result) in zip(batch, results) {
                record(result, of: fire, run: run)
            }
        }
        return true
    }

    private func record(_ result: Result<KeyedInsert, any Error>, of fire: PendingFire, run: NewRun) {
        let name = fire.workflow.name
        switch result {
        case .failure(let error):
            logger.error("cron: fire failed", metadata: ["workflow": "\(name)", "error": "\(error)"])
        case .success(.duplicate(let existing)):
            // Its insert moved the watermark already; this only guards against re-planning it.
            do {
                try store.markFired(name: name, at: fire.instant)
            } catch {
                logger.error("cron: fire failed", metadata: ["workflow": "\(name)", "error": "\(error)"])
            }
            onFire(name, .duplicate, nil)
            logger.info("cron: instant already fired", metadata: ["workflow": "\(name)", "run": "\(existing)"])
        case .success(.inserted):
            if waiting[name] == fire.instant { waiting[name] = nil }
            let lag = run.record.createdAt.timeIntervalSince(fire.instant)
            onFire(name, fire.outcome, lag)
            logger.info(
                "cron: fired",
                metadata: [
                    "workflow": "\(name)", "run": "\(run.record.id)",
                    "scheduled_at": "\(Timestamp.format(fire.instant))",
                    "lag_ms": "\(Int((lag * 1000).rounded()))",
                ])
        }
    }

    private func spec(of workflow: WorkflowRecord) throws -> ParsedSpec {
        if let cached = specs[workflow.name], cached.json == workflow.specJSON { return cached }
        let spec = try SpecParser.parse(workflow.specJSON, format: .json, cores: cores, maxTasks: Int.max)
        let encoded = SpecEncoder.encode(spec)
        let parsed = ParsedSpec(json: workflow.specJSON, spec: spec, encoded: (encoded, ContentDigest.hex(encoded)))
        specs[workflow.name] = parsed
        return parsed
    }
}
