import Foundation
import Testing

@testable import BatonCore

/// A fake executor around `Engine` (ninja's `FakeCommandRunner`): a fake clock, fake
/// processes that exit only when a test says so, and every action and store change
/// recorded. No processes, no sleeps.
///
/// After every event the harness performs the engine's actions (a spawn becomes a live fake
/// process; a SIGKILL makes it exit with signal 9 unless `exitOnKill` is off; a SIGTERM
/// makes it exit with signal 15 only when `exitOnTerminate` is on), drains the store
/// changes and checks the invariants every run must keep: the pool is never over-full and
/// no run is ever stalled.
struct EngineHarness {
    /// Time zero of every test.
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    /// One recorded signal.
    struct SentSignal: Equatable {
        var ref: TaskRef
        var signal: StopSignal
        /// Seconds since `epoch`.
        var at: Double
    }

    var engine: Engine
    var now: Date
    /// Every spawn, in order.
    private(set) var spawns: [SpawnPlan] = []
    /// Seconds since `epoch` of each spawn, parallel to `spawns`.
    private(set) var spawnTimes: [Double] = []
    private(set) var signals: [SentSignal] = []
    /// Live fake processes, by task: the plan they were spawned with and a serial number.
    private(set) var live: [TaskRef: (plan: SpawnPlan, serial: Int)] = [:]
    /// Live processes in spawn order (lazily cleaned), for `runAll`.
    private var liveOrder: [(ref: TaskRef, serial: Int)] = []
    private var liveHead = 0
    private var serial = 0
    /// `.runFinished` statuses, by run.
    private(set) var finished: [String: RunStatus] = [:]
    /// Every drained batch, when `keepBatches` is on.
    private(set) var batches: [StoreBatch] = []
    var keepBatches = true
    /// Totals over every drained batch.
    private(set) var taskRowCount = 0
    private(set) var attemptRowCount = 0
    private(set) var runRowCount = 0
    /// Largest number of slot-holding processes alive at once (hooks and forever tasks
    /// excluded).
    private(set) var peakBusy = 0
    var exitOnKill = true
    var exitOnTerminate = false
    /// Off only in the tests of the stall safety net itself.
    var failOnStall = true
    private var names: [String: [String: Int]] = [:]
    private var nextPid: Int32 = 1000

    init(workers: Int = 4) {
        engine = Engine(workers: workers)
        now = Self.epoch
    }

    /// Seconds since `epoch`.
    var elapsed: Double { now.timeIntervalSince(Self.epoch) }

    // MARK: Events

    /// Adds a new run of `spec` and starts it.
    mutating func add(_ spec: WorkflowSpec, runID: String = "r1") {
        add(RunMachine(record: Self.record(runID, spec: spec, at: now), spec: spec, now: now))
    }

    /// Adds a machine built by the test (a restored run, for instance).
    mutating func add(_ machine: RunMachine) {
        var map: [String: Int] = [:]
        map.reserveCapacity(machine.spec.tasks.count)
        for (index, task) in machine.spec.tasks.enumerated() { map[task.name] = index }
        names[machine.runID] = map
        engine.add(machine, now: now)
        pump()
    }

    /// The live process of task `name` exits with `code`.
    mutating func exit(
        _ name: String, code: Int32 = 0, run: String = "r1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let ref = liveRef(name, run: run, sourceLocation: sourceLocation) else { return }
        exit(ref, code: code, signal: nil)
    }

    /// The live process of task `name` dies of `signal`.
    mutating func kill(
        _ name: String, signal: Int32, run: String = "r1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let ref = liveRef(name, run: run, sourceLocation: sourceLocation) else { return }
        exit(ref, code: nil, signal: signal)
    }

    /// The node running task `name`'s process was lost (cluster mode): the process is
    /// gone with it.
    mutating func lose(
        _ name: String, reason: String = "interrupted: node n1 lost", run: String = "r1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let ref = liveRef(name, run: run, sourceLocation: sourceLocation) else { return }
        live[ref] = nil
        engine.processLost(ref, reason: reason, now: now)
        pump()
    }

    /// The executor could not start task `name`'s process (it was spawned, never ran).
    mutating func spawnFailed(
        _ name: String, message: String, run: String = "r1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let ref = liveRef(name, run: run, sourceLocation: sourceLocation) else { return }
        live[ref] = nil
        engine.spawnFailed(ref, message: message, now: now)
        pump()
    }

    mutating func exit(_ ref: TaskRef, code: Int32?, signal: Int32?) {
        live[ref] = nil
        engine.processExited(ref, exitCode: code, signal: signal, now: now)
        pump()
    }

    /// A client cancel.
    @discardableResult
    mutating func cancel(run: String = "r1") -> Bool {
        let accepted = engine.cancel(runID: run, now: now)
        pump()
        return accepted
    }

    /// Moves the clock forward by `seconds`, handling every wake on the way at its own time.
    mutating func advance(by seconds: Double) {
        advance(to: elapsed + seconds)
    }

    /// Moves the clock to `seconds` since `epoch`, handling every wake on the way.
    mutating func advance(to seconds: Double) {
        let target = Self.epoch.addingTimeInterval(seconds)
        var guardCount = 0
        while let wake = engine.nextWake, wake <= target {
            guardCount += 1
            if guardCount > 1_000_000 {
                Issue.record("nextWake does not move forward (\(wake))")
                return
            }
            if wake > now { now = wake }
            engine.tick(now: now)
            pump()
        }
        if target > now { now = target }
    }

    /// Drives every run to its end: the oldest live process exits with `code(plan)`, or
    /// the clock jumps to the next wake when nothing is alive.
    mutating func runAll(
        maxSteps: Int = 10_000_000, code: (SpawnPlan) -> Int32 = { _ in 0 },
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var steps = 0
        while steps < maxSteps {
            steps += 1
            if let ref = oldestLive() {
                let plan = live[ref]!.plan
                exit(ref, code: code(plan), signal: nil)
            } else if let wake = engine.nextWake {
                advance(to: wake.timeIntervalSince(Self.epoch))
            } else {
                return
            }
        }
        Issue.record("runAll did not finish in \(maxSteps) steps", sourceLocation: sourceLocation)
    }

    /// The oldest live process exits with `code`; returns it, or nil when nothing is alive.
    @discardableResult
    mutating func exitOldest(code: Int32 = 0) -> TaskRef? {
        guard let ref = oldestLive() else { return nil }
        exit(ref, code: code, signal: nil)
        return ref
    }

    // MARK: Queries

    func index(_ name: String, run: String = "r1") -> Int? { names[run]?[name] }

    func ref(_ name: String, run: String = "r1") -> TaskRef {
        TaskRef(runID: run, task: index(name, run: run) ?? -1)
    }

    func record(_ name: String, run: String = "r1") -> TaskRecord? {
        guard let index = index(name, run: run), let machine = engine.runs[run] else { return nil }
        return machine.taskRecords[index]
    }

    func status(_ name: String, run: String = "r1") -> TaskStatus? { record(name, run: run)?.status }
    func reason(_ name: String, run: String = "r1") -> String? { record(name, run: run)?.reason }

    func runStatus(_ run: String = "r1") -> RunStatus? { engine.runs[run]?.runUpdate.status }

    /// Whether task `name` has a live process (its command or its hook).
    func isLive(_ name: String, run: String = "r1") -> Bool { live[ref(name, run: run)] != nil }

    /// Names of the tasks of `run` with a live process, sorted.
    func liveNames(run: String = "r1") -> [String] {
        guard let machine = engine.runs[run] else { return [] }
        return live.keys.filter { $0.runID == run }.map { machine.spec.tasks[$0.task].name }.sorted()
    }

    /// Names spawned (commands, not hooks) in order, for one run.
    func spawnOrder(run: String = "r1") -> [String] {
        spawns.filter { $0.ref.runID == run && !$0.isTimeoutHook }.map(\.taskName)
    }

    /// The spawn plans of one task, hooks included.
    func spawns(of name: String, run: String = "r1") -> [SpawnPlan] {
        let ref = ref(name, run: run)
        return spawns.filter { $0.ref == ref }
    }

    /// Times (seconds since `epoch`) at which one task was spawned.
    func spawnTimes(of name: String, run: String = "r1") -> [Double] {
        let ref = ref(name, run: run)
        return zip(spawns, spawnTimes).filter { $0.0.ref == ref }.map(\.1)
    }

    /// The signals sent to one task, in order.
    func signals(of name: String, run: String = "r1") -> [StopSignal] {
        let ref = ref(name, run: run)
        return signals.filter { $0.ref == ref }.map(\.signal)
    }

    /// The signals sent to one task with their times.
    func timedSignals(of name: String, run: String = "r1") -> [SentSignal] {
        let ref = ref(name, run: run)
        return signals.filter { $0.ref == ref }
    }

    /// Seconds since `epoch` of the next wake, if any.
    var nextWake: Double? { engine.nextWake.map { $0.timeIntervalSince(Self.epoch) } }

    /// Every task row drained so far, in order.
    var taskRows: [TaskRecord] { batches.flatMap { $0.tasks.map(\.task) } }
    var attemptRows: [AttemptRecord] { batches.flatMap(\.attempts) }
    var runRows: [RunUpdate] { batches.flatMap(\.runs) }

    // MARK: Fixtures

    /// A run record for a new run of `spec`.
    static func record(_ runID: String, spec: WorkflowSpec, at date: Date) -> RunRecord {
        RunRecord(
            id: runID, name: spec.name, createdAt: date, specJSON: Data(), specHash: "test")
    }

    // MARK: Internals

    private func liveRef(_ name: String, run: String, sourceLocation: SourceLocation) -> TaskRef? {
        let ref = ref(name, run: run)
        guard live[ref] != nil else {
            Issue.record("task \(name) of \(run) has no live process", sourceLocation: sourceLocation)
            return nil
        }
        return ref
    }

    private mutating func oldestLive() -> TaskRef? {
        while liveHead < liveOrder.count {
            let entry = liveOrder[liveHead]
            if let current = live[entry.ref], current.serial == entry.serial { return entry.ref }
            liveHead += 1
            if liveHead > 4096 && liveHead * 2 > liveOrder.count {
                liveOrder.removeFirst(liveHead)
                liveHead = 0
            }
        }
        return nil
    }

    /// Performs the engine's actions until it has nothing more to say.
    private mutating func pump() {
        while true {
            var exits: [(TaskRef, Int32)] = []
            for action in engine.takeActions() {
                switch action {
                case .spawn(let plan):
                    if live[plan.ref] != nil {
                        Issue.record("\(plan.ref) spawned while a process of it is alive")
                    }
                    spawns.append(plan)
                    spawnTimes.append(elapsed)
                    serial += 1
                    live[plan.ref] = (plan, serial)
                    liveOrder.append((plan.ref, serial))
                    engine.processStarted(plan.ref, pid: nextPid)
                    nextPid += 1
                case .signal(let ref, let signal):
                    if live[ref] == nil { Issue.record("\(signal) sent to \(ref), which has no process") }
                    signals.append(SentSignal(ref: ref, signal: signal, at: elapsed))
                    if live[ref] != nil
                        && ((signal == .kill && exitOnKill) || (signal == .terminate && exitOnTerminate))
                    {
                        exits.append((ref, signal == .kill ? 9 : 15))
                    }
                case .runFinished(let runID, let status):
                    if finished[runID] != nil { Issue.record("run \(runID) finished twice") }
                    finished[runID] = status
                }
            }
            let batch = engine.drainChanges()
            taskRowCount += batch.tasks.count
            attemptRowCount += batch.attempts.count
            runRowCount += batch.runs.count
            if keepBatches && !batch.isEmpty { batches.append(batch) }
            checkInvariants()
            guard !exits.isEmpty else { return }
            for (ref, signal) in exits where live[ref] != nil {
                live[ref] = nil
                engine.processExited(ref, exitCode: nil, signal: signal, now: now)
            }
        }
    }

    private mutating func checkInvariants() {
        if engine.busy > engine.workers {
            Issue.record("pool over-full: \(engine.busy) of \(engine.workers)")
        }
        peakBusy = max(peakBusy, engine.busy)
        // Every live non-forever process (command or hook) holds exactly one slot, and no
        // run exceeds its own `max_parallel`.
        var perRun: [String: Int] = [:]
        var perGroup: [String: [String: Int]] = [:]
        for ref in live.keys {
            guard let machine = engine.runs[ref.runID] else { continue }
            let task = machine.spec.tasks[ref.task]
            guard !task.forever else { continue }
            perRun[ref.runID, default: 0] += 1
            if let group = task.group { perGroup[ref.runID, default: [:]][group, default: 0] += 1 }
        }
        for (runID, groups) in perGroup {
            guard let spec = engine.runs[runID]?.spec else { continue }
            for group in spec.groups {
                let limit = group.strategy == .sequential ? 1 : group.maxParallel
                if let limit, let count = groups[group.name], count > limit {
                    Issue.record("group \(group.name) of \(runID) has \(count) tasks running, limit \(limit)")
                }
            }
        }
        let holding = perRun.values.reduce(0, +)
        if holding != engine.busy {
            Issue.record("\(holding) live processes hold a slot but the pool counts \(engine.busy)")
        }
        for (runID, count) in perRun {
            if let limit = engine.runs[runID]?.spec.maxParallel, count > limit {
                Issue.record("run \(runID) has \(count) tasks running, max_parallel \(limit)")
            }
        }
        let stalled = engine.stalledRuns
        if failOnStall && !stalled.isEmpty { Issue.record("stalled runs: \(stalled)") }
    }
}

/// Spec fixtures built with the model initialisers (no parser involved).
enum EngineFixture {
    /// A shell task that never times out unless told, so that wakes are only the ones a
    /// test sets up.
    static func task(
        _ name: String, group: String? = nil, after dependsOn: [String] = [],
        trigger: DependencyTrigger = .allSuccess, timeout: Double = 0,
        onTimeout: CommandLine? = nil, retries: Int = 0, retryExitCodes: [Int32] = [],
        retryDelay: Double = 0, backoff: RetryBackoff = .fixed, retryMaxDelay: Double = 3600,
        critical: Bool = false, forever: Bool = false, restartable: Bool = true,
        env: [String: String] = [:], cwd: String? = nil
    ) -> TaskSpec {
        TaskSpec(
            name: name, command: .shell("run \(name)"), group: group, dependsOn: dependsOn,
            trigger: trigger, timeoutSeconds: timeout, onTimeout: onTimeout, retries: retries,
            retryExitCodes: retryExitCodes, retryDelaySeconds: retryDelay, retryBackoff: backoff,
            retryMaxDelaySeconds: retryMaxDelay, critical: critical, forever: forever,
            restartable: restartable, env: env, cwd: cwd)
    }

    /// `count` independent tasks named `prefix0`, `prefix1`, ….
    static func wide(_ count: Int, prefix: String = "t", group: String? = nil) -> [TaskSpec] {
        (0..<count).map { task("\(prefix)\($0)", group: group) }
    }

    /// `count` tasks, each depending on the previous one.
    static func chain(_ count: Int, prefix: String = "c") -> [TaskSpec] {
        (0..<count).map { $0 == 0 ? task("\(prefix)0") : task("\(prefix)\($0)", after: ["\(prefix)\($0 - 1)"]) }
    }
}
