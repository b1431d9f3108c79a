import Foundation

/// Why Baton is stopping a task's process; decides the status the task ends with.
enum StopCause: Sendable, Equatable {
    case timeout
    case failfast(String)
    case cancel
    case runTimeout
    case endOfRun
    /// The node running the attempt was lost (cluster mode); the reason names it.
    case lost(String)
}

/// Why a run stopped starting new work (SPEC §2 failure modes, cancel, run deadline).
enum Halt: Sendable, Equatable {
    /// `failfast` or a critical task: running tasks are stopped.
    case failfast(String)
    /// `waitcurrent`: running tasks finish.
    case waitcurrent(String)
    case cancel
    case runTimeout

    /// Whether running (non-`runalways`) tasks are stopped, not awaited.
    var stopsRunning: Bool {
        if case .waitcurrent = self { return false }
        return true
    }
}

/// Which process of a task is alive.
enum ProcessPhase: Sendable, Equatable {
    case idle
    /// The task's command.
    case main
    /// The `on_timeout` hook, after the command was killed for its timeout.
    case hook
}

/// The scheduling state machine of one run: events in (`start`, `processExited`,
/// `cancel`, `tick`), actions out (`EngineAction`), time passed in, no I/O. Every SPEC §2
/// rule lives here; the executor only performs the actions.
///
/// Data structures are sized for 100,000 tasks: counters of unmet dependencies, ready
/// queues per group, and a timer heap, so each event costs in proportion to the tasks it
/// touches.
public struct RunMachine: Sendable {
    public let runID: String
    public let spec: WorkflowSpec
    let plan: RunPlan

    // Run state.
    public internal(set) var status: RunStatus
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var cancelRequests: Int
    var deadlineHit: Bool
    var halt: Halt?
    /// A second cancel: `runalways` groups are stopped too.
    var haltAlways = false
    var runDeadline: Date?
    var restoring = false

    // Task state, indexed like `spec.tasks`.
    var tasks: [TaskRecord]
    var unmet: [Int32]
    var phase: [ProcessPhase]
    var stopCause: [StopCause?]
    var generation: [UInt32]
    var attemptStart: [Date?]
    /// When each task last became ready (queued for a slot): the start of its queue time.
    var readyAt: [Date?]
    /// The time of the event being handled, for code paths that do not take `now`.
    var eventTime: Date
    var queued: [Bool]
    /// Forever tasks release their dependents and their group when they start.
    var released: [Bool]
    /// For skipped tasks: the failed task that caused it, named in dependents' reasons.
    var rootFailure: [String?]
    /// Sequential groups: the task before it in its group has ended (or there is none).
    var sequentialTurn: [Bool]
    /// Sequential groups: the task has handed the turn on to the next one.
    var sequentialTurnPassed: [Bool]

    // Counters.
    var readyQueues: [ReadyQueue]
    var readyCount = 0
    var groupRunning: [Int]
    var groupRemaining: [Int]
    /// First group that still has unfinished tasks; groups up to it are open.
    var gate = 0
    /// Non-forever tasks that have not ended.
    var unfinished = 0
    /// Non-forever tasks holding a slot.
    var runningCount = 0
    /// Processes alive (commands and hooks, forever tasks included).
    var alive = 0
    var timers = TimerHeap()

    // Outbox, drained by the engine.
    var actions: [EngineAction] = []
    var dirtyTasks: [Int] = []
    var isDirty: [Bool]
    var runDirty = false
    var attemptUpdates: [AttemptRecord] = []

    /// A new run, or one restored from the store when `tasks` is given (SPEC §3 resume).
    /// - Parameters:
    ///   - attemptStarts: for restored tasks that were running, when that attempt started
    ///     (to close its attempt record).
    ///   - interruption: why restored running tasks stopped, for their reason
    ///     (`interrupted by server restart`, `interrupted: node N lost`).
    public init(
        record: RunRecord, spec: WorkflowSpec, tasks restored: [TaskRecord]? = nil,
        attemptStarts: [Int: Date] = [:], interruption: String = "interrupted by server restart", now: Date
    ) {
        runID = record.id
        self.spec = spec
        plan = RunPlan(spec: spec)
        status = record.status
        createdAt = record.createdAt
        startedAt = record.startedAt
        finishedAt = record.finishedAt
        cancelRequests = record.cancelRequests
        deadlineHit = record.deadlineHit
        let count = spec.tasks.count
        if let restored, restored.count == count {
            tasks = restored
        } else {
            tasks = spec.tasks.enumerated().map { index, task in
                TaskRecord(index: index, name: task.name, group: task.group)
            }
        }
        unmet = [Int32](repeating: 0, count: count)
        phase = [ProcessPhase](repeating: .idle, count: count)
        stopCause = [StopCause?](repeating: nil, count: count)
        generation = [UInt32](repeating: 0, count: count)
        attemptStart = [Date?](repeating: nil, count: count)
        readyAt = [Date?](repeating: nil, count: count)
        eventTime = now
        queued = [Bool](repeating: false, count: count)
        released = [Bool](repeating: false, count: count)
        rootFailure = [String?](repeating: nil, count: count)
        sequentialTurn = plan.hasSequentialPrevious.map { !$0 }
        sequentialTurnPassed = [Bool](repeating: false, count: count)
        isDirty = [Bool](repeating: false, count: count)
        readyQueues = [ReadyQueue](repeating: ReadyQueue(), count: plan.groupTasks.count)
        groupRunning = [Int](repeating: 0, count: plan.groupTasks.count)
        groupRemaining = plan.groupTasks.map(\.count)
        for index in 0..<count {
            unmet[index] =
                Int32(plan.dependencies[index].count) + (plan.hasSequentialPrevious[index] ? 1 : 0)
            if !spec.tasks[index].forever { unfinished += 1 }
        }
        if restored != nil {
            restore(attemptStarts: attemptStarts, interruption: interruption, now: now)
        } else {
            advanceGate()
        }
    }

    /// The run's current persisted fields.
    public var runUpdate: RunUpdate {
        RunUpdate(
            id: runID, status: status, startedAt: startedAt, finishedAt: finishedAt,
            cancelRequests: cancelRequests, deadlineHit: deadlineHit)
    }

    public var isFinished: Bool { status.isTerminal }
    public var taskRecords: [TaskRecord] { tasks }
    /// Tasks ready to start but waiting for a slot.
    public var readyTaskCount: Int { readyCount }
    /// Live processes of this run.
    public var aliveProcessCount: Int { alive }
    /// The earliest time `tick` has work to do.
    public var nextWake: Date? {
        guard !isFinished else { return nil }
        switch (timers.earliest, deadlineHit ? nil : runDeadline) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// "Nothing running, nothing ready, nothing due, run not finished": a scheduling bug.
    public var isStalled: Bool {
        status == .running && alive == 0 && readyCount == 0 && timers.isEmpty && !isFinished
    }

    // MARK: Events

    /// Starts a queued run (its deadline counts from now).
    public mutating func start(now: Date) {
        eventTime = now
        guard status == .queued else { return }
        status = .running
        startedAt = now
        if let seconds = spec.timeoutSeconds { runDeadline = now.addingTimeInterval(seconds) }
        runDirty = true
        enqueueOpenTasks()
        checkRunEnd(now: now)
    }

    /// Starts one ready task if the limits allow. Forever tasks need no slot.
    /// - Returns: whether a task that holds a pool slot was started, a forever task, or none.
    public mutating func startNext(now: Date, poolAvailable: Bool) -> StartResult {
        eventTime = now
        guard status == .running else { return .none }
        for group in readyQueues.indices where !readyQueues[group].isEmpty {
            while let head = readyQueues[group].peek {
                let index = Int(head)
                guard isStartable(index) else {
                    _ = readyQueues[group].pop()
                    queued[index] = false
                    readyCount -= 1
                    continue
                }
                if spec.tasks[index].forever {
                    _ = readyQueues[group].pop()
                    queued[index] = false
                    readyCount -= 1
                    launch(index, now: now)
                    return .startedForever
                }
                let runFull = spec.maxParallel.map { runningCount >= $0 } ?? false
                let groupFull = plan.groupLimit[group].map { groupRunning[group] >= $0 } ?? false
                // A task that runs a workflow holds no worker slot (its child's tasks do):
                // nesting could otherwise take every slot and wait for ever.
                let needsSlot = spec.tasks[index].subWorkflow == nil
                if (needsSlot && !poolAvailable) || runFull || groupFull { break }
                _ = readyQueues[group].pop()
                queued[index] = false
                readyCount -= 1
                launch(index, now: now)
                return needsSlot ? .started : .startedForever
            }
        }
        return .none
    }

    /// The executor started the process of a task: remember its group for resume.
    ///
    /// Not a change of its own for the store: the attempt was committed as running before
    /// the spawn (ExecutorLoop.settle), and a restart finds leftovers by the marks in their
    /// environment, not by this id (which may be a stranger's by then). The id goes out
    /// with the task's next change.
    public mutating func processStarted(task index: Int, pid: Int32) {
        tasks[index].pgid = pid
    }

    /// A process of the task ended (already reaped).
    public mutating func processExited(
        task index: Int, exitCode: Int32?, signal: Int32?, now: Date, failure: String? = nil
    ) {
        guard phase[index] != .idle else { return }
        eventTime = now
        alive -= 1
        tasks[index].pgid = nil
        markDirty(index)
        if phase[index] == .main {
            tasks[index].exitCode = exitCode
            tasks[index].signal = signal
            if stopCause[index] == .timeout, let hook = spec.tasks[index].onTimeout, !haltAlways {
                startHook(index, command: hook, now: now)
                return
            }
        }
        finishAttempt(index, failure: failure, now: now)
    }

    /// The attempt's process ran on a node that was lost (cluster mode): a `restartable`
    /// task starts again as a new attempt (not a failure: the retry budget is untouched),
    /// another ends `failed` with `reason`, as after a server restart (SPEC §3). An attempt
    /// already being stopped (timeout, cancel, failfast) ends as that stop says.
    public mutating func processLost(task index: Int, reason: String, now: Date) {
        guard phase[index] == .main else { return }
        if stopCause[index] == nil { stopCause[index] = .lost(reason) }
        processExited(task: index, exitCode: nil, signal: nil, now: now)
    }

    /// Says why a started attempt has no process yet (cluster mode: it waits for a node
    /// with the labels it needs); its end replaces the reason.
    public mutating func noteWaiting(task index: Int, reason: String) {
        guard phase[index] == .main else { return }
        tasks[index].reason = reason
        markDirty(index)
    }

    /// The executor could not start the process (command not found, bad cwd, …).
    public mutating func spawnFailed(task index: Int, message: String, now: Date) {
        eventTime = now
        processExited(task: index, exitCode: 127, signal: nil, now: now, failure: message)
    }

    /// A client asked to cancel. Returns false when the run has already ended.
    @discardableResult
    public mutating func cancel(now: Date) -> Bool {
        eventTime = now
        guard !isFinished else { return false }
        cancelRequests += 1
        runDirty = true
        if status == .queued {
            status = .running
            startedAt = now
        }
        applyHalt(.cancel, now: now)
        if cancelRequests >= 2 && !haltAlways {
            haltAlways = true
            stopEverything(now: now)
        }
        checkRunEnd(now: now)
        return true
    }

    /// Handles every timer due at `now` and the run deadline.
    public mutating func tick(now: Date) {
        eventTime = now
        guard !isFinished else { return }
        if let deadline = runDeadline, !deadlineHit, deadline <= now {
            deadlineHit = true
            runDirty = true
            applyHalt(.runTimeout, now: now)
        }
        while let timer = timers.popDue(now) {
            let index = Int(timer.task)
            guard generation[index] == timer.generation else { continue }
            switch timer.kind {
            case .deadline:
                guard phase[index] != .idle else { continue }
                if phase[index] == .main && stopCause[index] == nil {
                    stopCause[index] = .timeout
                }
                sendStop(index, now: now)
            case .kill:
                if phase[index] != .idle {
                    actions.append(.signal(ref(index), .kill))
                }
            case .retry:
                guard tasks[index].status == .pending else { continue }
                tasks[index].retryAt = nil
                markDirty(index)
                tryEnqueue(index)
            }
        }
        checkRunEnd(now: now)
    }

    /// The last resort against a scheduling bug: ends a stalled run instead of hanging.
    public mutating func abortStalled(now: Date) {
        eventTime = now
        for index in tasks.indices where !tasks[index].status.isTerminal {
            settle(index, status: .skipped, reason: "internal error: scheduler stalled", now: now)
        }
        checkRunEnd(now: now)
    }

    /// Drains the actions produced since the last call.
    public mutating func takeActions() -> [EngineAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// Drains the persisted changes produced since the last call into `batch`.
    public mutating func drainChanges(into batch: inout StoreBatch) {
        if runDirty {
            batch.runs.append(runUpdate)
            runDirty = false
        }
        for index in dirtyTasks {
            batch.tasks.append((runID, tasks[index]))
            isDirty[index] = false
        }
        dirtyTasks.removeAll(keepingCapacity: true)
        batch.attempts.append(contentsOf: attemptUpdates)
        attemptUpdates.removeAll(keepingCapacity: true)
    }

    func ref(_ index: Int) -> TaskRef { TaskRef(runID: runID, task: index) }

    mutating func markDirty(_ index: Int) {
        if !isDirty[index] {
            isDirty[index] = true
            dirtyTasks.append(index)
        }
    }
}

/// What `RunMachine.startNext` did.
public enum StartResult: Sendable, Equatable {
    case none
    /// A task that holds a worker slot.
    case started
    /// A task that holds no slot: a forever task, or one that runs a workflow.
    case startedForever
}

/// A FIFO of task indices (array and head index: O(1) amortised, no reallocation churn).
struct ReadyQueue: Sendable {
    private var items: [Int32] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var peek: Int32? { isEmpty ? nil : items[head] }

    mutating func append(_ item: Int32) { items.append(item) }

    mutating func pop() -> Int32? {
        guard !isEmpty else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return item
    }
}
