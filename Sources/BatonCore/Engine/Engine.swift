import Foundation

/// Every active run plus the shared worker pool: the pure core the executor drives.
///
/// Fairness (SPEC §2): slots are handed out round-robin, one task per run per turn, so a
/// run with 10,000 ready tasks cannot starve a run submitted after it.
public struct Engine: Sendable {
    /// Size of the worker pool.
    public let workers: Int
    public private(set) var runs: [String: RunMachine] = [:]
    /// Runs in round-robin order.
    private var rotation: [String] = []
    private var cursor = 0
    /// Pool slots in use (forever tasks hold none).
    public private(set) var busy = 0
    private var slotHolders: Set<TaskRef> = []
    private var actions: [EngineAction] = []

    public init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Adds a run (new, or restored from the store) and starts it.
    public mutating func add(_ machine: RunMachine, now: Date) {
        var machine = machine
        machine.start(now: now)
        runs[machine.runID] = machine
        rotation.append(machine.runID)
        collect(machine.runID)
        fill(now: now)
    }

    /// A client cancel. Returns false for an unknown or finished run.
    @discardableResult
    public mutating func cancel(runID: String, now: Date) -> Bool {
        guard runs[runID] != nil else { return false }
        let accepted = runs[runID]!.cancel(now: now)
        collect(runID)
        fill(now: now)
        return accepted
    }

    public mutating func processStarted(_ ref: TaskRef, pid: Int32) {
        runs[ref.runID]?.processStarted(task: ref.task, pid: pid)
    }

    public mutating func processExited(
        _ ref: TaskRef, exitCode: Int32?, signal: Int32?, now: Date
    ) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.processExited(task: ref.task, exitCode: exitCode, signal: signal, now: now)
        releaseSlotIfIdle(ref)
        collect(ref.runID)
        fill(now: now)
    }

    public mutating func spawnFailed(_ ref: TaskRef, message: String, now: Date) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.spawnFailed(task: ref.task, message: message, now: now)
        releaseSlotIfIdle(ref)
        collect(ref.runID)
        fill(now: now)
    }

    /// Handles every due timer of every run.
    public mutating func tick(now: Date) {
        for runID in rotation where (runs[runID]?.nextWake).map({ $0 <= now }) ?? false {
            runs[runID]!.tick(now: now)
            collect(runID)
        }
        fill(now: now)
    }

    /// The earliest time `tick` has work to do.
    public var nextWake: Date? {
        var earliest: Date?
        for machine in runs.values {
            if let wake = machine.nextWake, earliest.map({ wake < $0 }) ?? true { earliest = wake }
        }
        return earliest
    }

    /// Runs that are stuck by a scheduling bug (see `RunMachine.isStalled`).
    public var stalledRuns: [String] { rotation.filter { runs[$0]?.isStalled ?? false } }

    /// Ends a stalled run rather than hang.
    public mutating func abortStalled(runID: String, now: Date) {
        runs[runID]?.abortStalled(now: now)
        collect(runID)
    }

    /// Drains the actions produced since the last call.
    public mutating func takeActions() -> [EngineAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// Drains every run's persisted changes into one batch (one transaction).
    public mutating func drainChanges() -> StoreBatch {
        var batch = StoreBatch()
        for runID in rotation { runs[runID]!.drainChanges(into: &batch) }
        return batch
    }

    /// Forgets finished runs whose changes have been drained.
    public mutating func removeFinishedRuns() {
        let finished = rotation.filter { runs[$0]?.isFinished ?? true }
        guard !finished.isEmpty else { return }
        for runID in finished { runs[runID] = nil }
        rotation.removeAll { runs[$0] == nil }
        cursor = rotation.isEmpty ? 0 : cursor % rotation.count
    }

    // MARK: Internals

    private mutating func collect(_ runID: String) {
        guard runs[runID] != nil else { return }
        for action in runs[runID]!.takeActions() {
            actions.append(action)
        }
    }

    private mutating func releaseSlotIfIdle(_ ref: TaskRef) {
        guard let machine = runs[ref.runID], slotHolders.contains(ref) else { return }
        if machine.phase[ref.task] == .idle {
            slotHolders.remove(ref)
            busy -= 1
        }
    }

    /// Starts tasks, one per run per turn, until the pool is full or nothing is ready.
    private mutating func fill(now: Date) {
        guard !rotation.isEmpty else { return }
        var progress = true
        while progress {
            progress = false
            let start = cursor
            for step in 0..<rotation.count {
                let position = (start + step) % rotation.count
                let runID = rotation[position]
                guard runs[runID]!.readyTaskCount > 0 else { continue }
                let result = runs[runID]!.startNext(now: now, poolAvailable: busy < workers)
                switch result {
                case .none: continue
                case .started:
                    busy += 1
                    progress = true
                    cursor = (position + 1) % rotation.count
                    if let task = lastStarted(runID) { slotHolders.insert(task) }
                case .startedForever:
                    progress = true
                }
                collect(runID)
            }
        }
    }

    /// The task whose spawn the run just emitted.
    private func lastStarted(_ runID: String) -> TaskRef? {
        for action in runs[runID]!.actions.reversed() {
            if case .spawn(let plan) = action, !plan.isTimeoutHook { return plan.ref }
        }
        return nil
    }
}
