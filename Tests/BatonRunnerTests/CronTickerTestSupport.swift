import BatonCore
import BatonStorage
import Foundation
import Logging
import Synchronization
import Testing

@testable import BatonRunner

/// A `RunControl` that starts nothing: it records what the cron ticker asked for.
final class RecordingControl: RunControl {
    struct Calls {
        var submitted: [RunRecord] = []
        var cancelled: [String] = []
    }

    private let calls = Mutex(Calls())

    func submit(_ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]?, extraEnvironment: [String: String]) {
        calls.withLock { $0.submitted.append(record) }
    }

    func cancel(runID: String) -> CancelResult {
        calls.withLock { $0.cancelled.append(runID) }
        return .accepted
    }

    var submitted: [RunRecord] { calls.withLock { $0.submitted } }
    var cancelled: [String] { calls.withLock { $0.cancelled } }

    /// The `scheduled_at` of every submitted cron run, in order.
    var scheduled: [Date] {
        submitted.compactMap { record in
            if case .cron(let instant) = record.trigger { return instant }
            return nil
        }
    }
}

/// A real store in a fresh directory, a recording control, and the ticker's loop driven
/// with a fake clock (`tick(now:)`), no thread, no processes.
final class CronTickerFixture {
    let directory: URL
    let store: SQLiteRunStore
    let control = RecordingControl()
    private(set) var loop: CronTickerLoop

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-cron-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteRunStore(dataDirectory: directory)
        loop = CronTickerLoop(
            store: store, control: control, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            cores: 2, lateAfter: CronPlanner.defaultLateAfter)
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A new loop on the same store: what a restarted server has.
    func restart() {
        loop = CronTickerLoop(
            store: store, control: control, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            cores: 2, lateAfter: CronPlanner.defaultLateAfter)
    }

    /// Stores workflow `name` with `cron`, created at `created`.
    func addWorkflow(
        _ name: String, cron: String, overlap: OverlapPolicy = .skip, missed: MissedPolicy = .runOnce, created: Date
    ) throws {
        let spec = WorkflowSpec(name: name, tasks: [TaskSpec(name: "t", command: .shell("true"))])
        let schedule = Schedule(cron: try CronExpression.parse(cron), overlap: overlap, missed: missed)
        _ = try store.upsertWorkflow(
            WorkflowDefinition(spec: spec, schedule: schedule).record(name: name, now: created))
    }

    /// Inserts a run of `workflow` that is `running` (started by someone else).
    @discardableResult
    func addActiveRun(_ workflow: String, id: String = RunID.generate()) throws -> String {
        let spec = WorkflowSpec(name: workflow, tasks: [TaskSpec(name: "t", command: .shell("true"))])
        var run = NewRun(spec: spec, workflow: workflow, trigger: .manual, now: Date())
        run.record.id = id
        run.record.status = .running
        try store.insertRun(run.record, tasks: run.tasks)
        return id
    }

    /// Marks run `id` succeeded.
    func finish(_ id: String) throws {
        var batch = StoreBatch()
        batch.runs = [
            RunUpdate(
                id: id, status: .succeeded, startedAt: Date(), finishedAt: Date(), cancelRequests: 0, deadlineHit: false
            )
        ]
        try store.apply(batch)
    }

    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }
}
