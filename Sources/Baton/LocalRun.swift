import BatonCore
import BatonRunner
import BatonStorage
import Foundation
import Logging
import Synchronization

/// Wires store, executor, progress and signals for one local run.
struct LocalRun {
    struct Outcome {
        var run: RunRecord
        var tasks: [TaskRecord]
        var interruptedBy: Int32?
        var notifications: [NotificationRecord]
    }

    var spec: WorkflowSpec
    var dataDirectory: URL
    var workers: Int
    var json: Bool

    func execute() throws -> Outcome {
        let store = try SQLiteRunStore(dataDirectory: dataDirectory)
        let specJSON = SpecEncoder.encode(spec)
        let specHash = ContentDigest.hex(specJSON)
        // A killed runner left this run unfinished: resume it (SPEC §5).
        let existing = try store.unfinishedRuns().last { $0.specHash == specHash }
        let runID = existing?.id ?? RunID.generate()
        let progress = RunProgressPrinter(toStandardError: json)
        let finished = DispatchSemaphore(value: 0)
        var logger = Logger(label: "baton.run")
        logger.logLevel = .warning
        let notifier = Notifier(store: store, logger: logger)
        notifier.start()
        let executor = Executor(
            configuration: ExecutorConfiguration(
                dataDirectory: dataDirectory, decodeSpec: { try SpecParser.parse($0, format: .json) },
                workers: workers),
            store: store, logger: logger, onBatch: progress.handle,
            onRunFinished: { id, status in
                notifier.runFinished(runID: id, status: status)
                if id == runID { finished.signal() }
            })
        if existing != nil {
            Console.error("baton: resuming unfinished run \(runID) from \(dataDirectory.path)")
        }
        try executor.start(resuming: { $0.id == runID })
        if existing == nil {
            let now = Date()
            let record = RunRecord(
                id: runID, name: spec.name, trigger: .manual, createdAt: now, specJSON: specJSON,
                specHash: specHash)
            let tasks = spec.tasks.enumerated().map { index, task in
                TaskRecord(index: index, name: task.name, group: task.group)
            }
            try store.insertRun(record, tasks: tasks)
            try store.enqueueNotifications(NotificationRecord.waiting(for: runID, spec: spec))
            executor.submit(record, spec: spec)
        }
        let interrupted = SignalTrap { signal in
            // First signal: cancel (cleanup `runalways` groups still run); second: stop them too.
            _ = executor.cancel(runID: runID)
            _ = signal
        }
        finished.wait()
        executor.shutdown()
        // SPEC §5: `baton run` delivers its notifications (with the retries) before exiting.
        notifier.drain(timeout: 60)
        notifier.stop()
        guard let run = try store.run(id: runID) else {
            throw LocalRunError.lost(runID)
        }
        return Outcome(
            run: run, tasks: try store.tasks(runID: runID), interruptedBy: interrupted.first,
            notifications: try store.notifications(runID: runID))
    }
}

enum LocalRunError: Error, CustomStringConvertible {
    case lost(String)

    var description: String {
        switch self {
        case .lost(let id): return "run \(id) vanished from the store"
        }
    }
}
