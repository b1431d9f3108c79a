import BatonCore
import BatonHTTP
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
        // First, before anything starts: a signal must never find Baton without its trap.
        let cancelTarget = CancelTarget()
        let interrupted = SignalTrap { _ in cancelTarget.cancel() }
        // Each running task holds two descriptors (output pipe, pidfd): thousands of workers
        // need more than the usual soft limit of 1,024 (`baton serve` raises it too).
        if let limit = FileDescriptorLimit.raiseToHardLimit(), UInt64(workers) * 2 + 64 > limit {
            Console.error("baton: the open-file limit (\(limit)) allows fewer than \(workers) running tasks")
        }
        let lock = try DataDirectoryLock(directory: dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        let store = try SQLiteRunStore(dataDirectory: dataDirectory)
        // Dropped once the run is created: 3 MB for 10,000 tasks, kept by the run's record
        // while it runs, and no longer needed at the end, when `baton run` peaks.
        var specJSON = SpecEncoder.encode(spec)
        let specHash = ContentDigest.hex(specJSON)
        // A killed runner left this run unfinished: resume it (SPEC §5).
        let existing = try store.unfinishedRuns().last { $0.specHash == specHash }
        let runID = existing?.id ?? RunID.generate()
        let progress = RunProgressPrinter(
            toStandardError: json, rootRunID: runID, rootName: spec.name, runName: { try? store.run(id: $0)?.name })
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
            onRunFinished: { ending in
                if ending.hasNotifications { notifier.runFinished(runID: ending.runID, status: ending.status) }
                if ending.runID == runID { finished.signal() }
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
            try RunCreator(store: store, control: executor).create(record, spec: spec)
        }
        specJSON = Data()
        // First signal: cancel (cleanup `runalways` groups still run); second: stop them too.
        cancelTarget.arm { _ = executor.cancel(runID: runID) }
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

/// Where a signal's cancel goes once the run exists; a signal before that is remembered
/// and delivered on `arm`.
final class CancelTarget: Sendable {
    private let state = Mutex<(action: (@Sendable () -> Void)?, pending: Int)>((nil, 0))

    func cancel() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            if state.action == nil { state.pending += 1 }
            return state.action
        }
        action?()
    }

    func arm(_ action: @escaping @Sendable () -> Void) {
        let pending = state.withLock { state -> Int in
            state.action = action
            defer { state.pending = 0 }
            return state.pending
        }
        for _ in 0..<pending { action() }
    }
}
