import Foundation

/// Every active run plus the shared worker pool: the pure core the executor drives.
///
/// Fairness (SPEC §2): slots are handed out round-robin, one task per run per turn, so a
/// run with 10,000 ready tasks cannot starve a run submitted after it.
///
/// Cost: each event touches only the runs it concerns. Runs with startable tasks wait in
/// a ring, wake-up times sit in an indexed heap, and changed runs are tracked, so 1,000
/// concurrent runs add nothing to an event about one of them.
public struct Engine: Sendable {
    /// Size of the worker pool (in cluster mode, every live node's slots: see `setWorkers`).
    public private(set) var workers: Int
    public private(set) var runs: [String: RunMachine] = [:]
    /// Pool slots in use (forever tasks hold none).
    public private(set) var busy = 0
    /// Runs that may start a task, in round-robin order.
    private var ring = ReadyRing()
    private var wakes = WakeQueue()
    /// Runs changed since the last `drainChanges`, in first-touch order.
    private var dirty: [String] = []
    private var isDirty: Set<String> = []
    private var finished: [String] = []
    private var slotHolders: Set<TaskRef> = []
    private var actions: [EngineAction] = []

    /// Tasks ready to start, over every run (visits every run: for metrics, not hot paths).
    public var readyTaskCount: Int {
        runs.values.reduce(0) { $0 + $1.readyTaskCount }
    }

    public init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Adds a run (new, or restored from the store) and starts it.
    public mutating func add(_ machine: RunMachine, now: Date) {
        var machine = machine
        machine.start(now: now)
        let runID = machine.runID
        runs[runID] = machine
        touched(runID)
        fill(now: now)
    }

    /// A client cancel. Returns false for an unknown or finished run.
    @discardableResult
    public mutating func cancel(runID: String, now: Date) -> Bool {
        guard runs[runID] != nil else { return false }
        let accepted = runs[runID]!.cancel(now: now)
        touched(runID)
        fill(now: now)
        return accepted
    }

    public mutating func processStarted(_ ref: TaskRef, pid: Int32) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.processStarted(task: ref.task, pid: pid)
        markDirty(ref.runID)
    }

    /// A process ended; `failure` is the reason when the executor knows better than the exit
    /// status (e.g. `ssh: connection refused`).
    public mutating func processExited(
        _ ref: TaskRef, exitCode: Int32?, signal: Int32?, now: Date, failure: String? = nil
    ) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.processExited(
            task: ref.task, exitCode: exitCode, signal: signal, now: now, failure: failure)
        releaseSlotIfIdle(ref)
        touched(ref.runID)
        fill(now: now)
    }

    /// Resizes the pool (cluster mode: nodes joined or left) and starts what now fits.
    public mutating func setWorkers(_ count: Int, now: Date) {
        workers = max(1, count)
        fill(now: now)
    }

    /// The node that ran the task's attempt was lost (see `RunMachine.processLost`).
    public mutating func processLost(_ ref: TaskRef, reason: String, now: Date) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.processLost(task: ref.task, reason: reason, now: now)
        releaseSlotIfIdle(ref)
        touched(ref.runID)
        fill(now: now)
    }

    /// See `RunMachine.noteWaiting`.
    public mutating func noteWaiting(_ ref: TaskRef, reason: String) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.noteWaiting(task: ref.task, reason: reason)
        markDirty(ref.runID)
    }

    public mutating func spawnFailed(_ ref: TaskRef, message: String, now: Date) {
        guard runs[ref.runID] != nil else { return }
        runs[ref.runID]!.spawnFailed(task: ref.task, message: message, now: now)
        releaseSlotIfIdle(ref)
        touched(ref.runID)
        fill(now: now)
    }

    /// Handles every due timer of every run.
    public mutating func tick(now: Date) {
        for runID in wakes.due(now) where runs[runID] != nil {
            runs[runID]!.tick(now: now)
            touched(runID)
        }
        fill(now: now)
    }

    /// The earliest time `tick` has work to do.
    public var nextWake: Date? { wakes.earliest }

    /// Runs that are stuck by a scheduling bug (see `RunMachine.isStalled`).
    public var stalledRuns: [String] { runs.keys.filter { runs[$0]!.isStalled }.sorted() }

    /// Stalled runs among those changed since the last `drainChanges` (what the executor
    /// checks after every round: a run can only stall when something happened to it).
    public var stalledChangedRuns: [String] { dirty.filter { runs[$0]?.isStalled ?? false } }

    /// Ends a stalled run rather than hang.
    public mutating func abortStalled(runID: String, now: Date) {
        guard runs[runID] != nil else { return }
        runs[runID]!.abortStalled(now: now)
        touched(runID)
    }

    /// Drains the actions produced since the last call.
    public mutating func takeActions() -> [EngineAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// Whether some run changed since the last `drainChanges`.
    public var hasChanges: Bool { !dirty.isEmpty }

    /// Drains the changed runs' persisted changes into one batch (one transaction).
    public mutating func drainChanges() -> StoreBatch {
        var batch = StoreBatch()
        for runID in dirty where runs[runID] != nil {
            runs[runID]!.drainChanges(into: &batch)
        }
        dirty.removeAll(keepingCapacity: true)
        isDirty.removeAll(keepingCapacity: true)
        return batch
    }

    /// Forgets finished runs whose changes have been drained.
    public mutating func removeFinishedRuns() {
        guard !finished.isEmpty else { return }
        var kept: [String] = []
        for runID in finished {
            if isDirty.contains(runID) {
                kept.append(runID)
            } else {
                runs[runID] = nil
                wakes.set(runID, nil)
                ring.remove(runID)
            }
        }
        finished = kept
    }

    // MARK: Internals

    private mutating func markDirty(_ runID: String) {
        if isDirty.insert(runID).inserted { dirty.append(runID) }
    }

    /// After an event on a run: collect its actions, and refresh its wake time, its place
    /// in the ring and its dirty mark.
    private mutating func touched(_ runID: String) {
        guard let machine = runs[runID] else { return }
        markDirty(runID)
        for action in runs[runID]!.takeActions() {
            if case .runFinished = action { finished.append(runID) }
            actions.append(action)
        }
        wakes.set(runID, machine.nextWake)
        if machine.readyTaskCount > 0 && !machine.isFinished { ring.append(runID) }
    }

    private mutating func releaseSlotIfIdle(_ ref: TaskRef) {
        guard let machine = runs[ref.runID], slotHolders.contains(ref) else { return }
        if machine.phase[ref.task] == .idle {
            slotHolders.remove(ref)
            busy -= 1
        }
    }

    /// Starts tasks, one per run per turn, until the pool is full or nothing can start.
    /// Runs blocked by their own limits keep their place in the ring; when the pool is
    /// full the pass stops at once instead of asking every run.
    private mutating func fill(now: Date) {
        var blockedByOwnLimits: [String] = []
        while let runID = ring.popFirst() {
            guard runs[runID] != nil, runs[runID]!.readyTaskCount > 0 else { continue }
            let poolAvailable = busy < workers
            switch runs[runID]!.startNext(now: now, poolAvailable: poolAvailable) {
            case .started:
                busy += 1
                if let task = lastStarted(runID) { slotHolders.insert(task) }
                touched(runID)  // back at the end of the ring if it has more
            case .startedForever:
                touched(runID)
            case .none where poolAvailable:
                blockedByOwnLimits.append(runID)
            case .none:
                ring.pushFront(runID)
                for skipped in blockedByOwnLimits.reversed() { ring.pushFront(skipped) }
                return
            }
        }
        for skipped in blockedByOwnLimits { ring.append(skipped) }
    }

    /// The task whose spawn the run just emitted.
    private func lastStarted(_ runID: String) -> TaskRef? {
        for action in runs[runID]!.actions.reversed() {
            if case .spawn(let plan) = action, !plan.isTimeoutHook { return plan.ref }
        }
        return nil
    }
}

/// Run ids in round-robin order, each at most once.
struct ReadyRing: Sendable {
    private var items: [String] = []
    private var head = 0
    private var members: Set<String> = []

    mutating func append(_ runID: String) {
        if members.insert(runID).inserted { items.append(runID) }
    }

    mutating func popFirst() -> String? {
        while head < items.count {
            let runID = items[head]
            head += 1
            if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            if members.remove(runID) != nil { return runID }
        }
        items.removeAll(keepingCapacity: true)
        head = 0
        return nil
    }

    /// Puts a run back at the front (it keeps its turn).
    mutating func pushFront(_ runID: String) {
        guard members.insert(runID).inserted else { return }
        if head > 0 {
            head -= 1
            items[head] = runID
        } else {
            items.insert(runID, at: 0)
        }
    }

    mutating func remove(_ runID: String) {
        members.remove(runID)
    }
}
