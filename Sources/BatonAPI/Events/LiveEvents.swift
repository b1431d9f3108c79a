import BatonCore
import Foundation
import Logging

/// Turns committed changes into live events and metrics on ONE thread of its own, so the
/// executor only hands over what it already has (one lock and an append per batch) and
/// never encodes JSON or wakes clients itself.
///
/// It also ticks the hub's listeners: keep-alives of idle streams and long-poll deadlines.
public final class LiveEvents: @unchecked Sendable {
    // @unchecked Sendable: `inputs` and `nextTick` are guarded by `condition` (the worker's);
    // `tallies` and the log state are touched by the pump thread only; `relay` is set
    // before the thread starts.
    public let hub: EventHub
    public let metrics: BatonMetrics
    let store: any RunStore
    let logger: Logger

    private let worker = WorkerThread(name: "baton-events")
    private var condition: NSCondition { worker.condition }
    private var inputs: [Input] = []
    /// When the pump ticks the listeners next, as it planned it…
    private var scheduledTick = ContinuousClock.now
    /// …and as a new listener asked (a long-poll deadline), whichever is earlier.
    private var requestedTick: ContinuousClock.Instant?
    private var nextTick: ContinuousClock.Instant {
        requestedTick.map { min($0, scheduledTick) } ?? scheduledTick
    }
    private var tallies = RunTallies()
    /// Whether `baton_runs_active` must be recounted: once per drain, not once per run (a
    /// cron tick creating 1,000 runs made that quadratic: 15 % of the server's CPU).
    private var activeChanged = false
    /// Newest log size per (run, task, attempt) not yet published: chatty tasks give one
    /// event per log per ``logInterval``, not one per pipe read.
    private var pendingLogs: [String: LogProgress] = [:]
    private var logsFlushedAt = ContinuousClock.now
    static let logInterval = Duration.milliseconds(100)
    /// Streams are ticked at least this often (keep-alives are due every 15 s).
    static let tickInterval = Duration.seconds(5)
    /// The pump handles what accumulated at most this often: on a busy scheduler a batch
    /// per round would cost a thread wake-up per round; 10 ms of delay costs nothing to a
    /// page (the target is events within 100 ms).
    static let drainInterval = Duration.milliseconds(10)
    /// With many open streams each drain costs a write to every one of them (most of them
    /// straight from this thread, ``EventStream/sendDirectly(through:)``), and the longer
    /// the batch the more `run.updated` it coalesces: the interval grows by 50 µs per
    /// stream, up to 40 ms (35 ms at 500 streams). Measured at 500 streams and 1,000 runs/s
    /// (bench/events.sh), same sitting: 35 ms gave delivery p99 69-453 ms (median 194),
    /// 20 ms 187-1018 ms (median ~250, more bytes), 12 ms 155-300 ms.
    static func drainInterval(streams: Int) -> Duration {
        min(drainInterval + .microseconds(50 * streams), .milliseconds(40))
    }
    private var drainedAt = ContinuousClock.now

    enum Input {
        case batch(StoreBatch)
        case runCreated(RunRecord, taskCount: Int, tasks: [TaskRecord]?)
        case log(LogProgress)
        case event(ServerEvent)
        /// Events another node published (cluster mode): shown as they are, never counted
        /// in this node's metrics nor relayed again.
        case remote([ServerEvent])
    }

    /// Cluster mode: hands the events this node published to the other nodes (on the pump
    /// thread, after they are published here). Set before ``start()``.
    public var relay: (@Sendable ([ServerEvent]) -> Void)?

    public init(hub: EventHub, metrics: BatonMetrics, store: any RunStore, logger: Logger) {
        self.hub = hub
        self.metrics = metrics
        self.store = store
        self.logger = logger
        metrics.setSources { sources in
            sources.openStreams = { [hub] in hub.openStreams }
        }
    }

    /// Figures of the runs in flight, for `baton_runs_active` (read under the lock).
    private let activeLock = NSLock()
    private var active: [RunStatus: Int] = [:]

    public func start() {
        metrics.setSources { sources in
            sources.activeRuns = { [self] in activeLock.withLock { active } }
        }
        worker.start { [self] in loop() }
    }

    /// Stops the thread after it published what it was given.
    public func stop() {
        worker.stop()
    }

    // MARK: inputs (any thread)

    /// A batch the executor committed.
    public func batchCommitted(_ batch: StoreBatch) { post(.batch(batch)) }

    /// A run committed and handed to the executor; `tasks` nil: all pending.
    public func runCreated(_ record: RunRecord, taskCount: Int, tasks: [TaskRecord]?) {
        post(.runCreated(record, taskCount: taskCount, tasks: tasks))
    }

    public func logProgressed(_ progress: LogProgress) { post(.log(progress)) }

    /// Events another node relayed.
    public func remoteEvents(_ events: [ServerEvent]) {
        guard !events.isEmpty else { return }
        post(.remote(events))
    }

    /// Any other event, published as is.
    public func publish(_ kind: EventKind, runID: String? = nil, data: String) {
        post(.event(ServerEvent(kind: kind, runID: runID, data: data)))
    }

    /// Makes the pump tick listeners by `instant` (a long-poll's deadline).
    func tick(by instant: ContinuousClock.Instant) {
        condition.withLock {
            // Always kept (not only when earlier than `nextTick`): the pump may be between
            // clearing the last request and planning its next tick, with `nextTick` stale.
            requestedTick = min(requestedTick ?? instant, instant)
            condition.signal()
        }
    }

    private func post(_ input: Input) {
        condition.withLock {
            // Only the first input wakes the pump; the rest ride along (no context switch
            // per executor round).
            if inputs.isEmpty { condition.signal() }
            inputs.append(input)
        }
    }

    // MARK: the pump thread

    private func loop() {
        while true {
            let (batch, stop) = waitForWork()
            var events: [ServerEvent] = []
            var remote: [ServerEvent] = []
            for input in batch {
                if case .remote(let relayed) = input {
                    remote += relayed
                } else {
                    convert(input, into: &events)
                }
            }
            if activeChanged {
                updateActive()
                activeChanged = false
            }
            let now = ContinuousClock.now
            if !pendingLogs.isEmpty && (stop || now - logsFlushedAt >= Self.logInterval) {
                flushLogs(into: &events)
                logsFlushedAt = now
            }
            hub.publish(events)
            hub.publish(remote)
            if let relay, !events.isEmpty { relay(events) }
            let tickDue = condition.withLock {
                guard nextTick <= now else { return false }
                requestedTick = nil
                return true
            }
            if tickDue || stop {
                let next = hub.tick(now: now) ?? now + Self.tickInterval
                condition.withLock { scheduledTick = min(next, now + Self.tickInterval) }
            }
            if stop { return }
        }
    }

    private func waitForWork() -> ([Input], Bool) {
        condition.withLock {
            while inputs.isEmpty && !worker.stopping {
                var deadline = nextTick
                if !pendingLogs.isEmpty { deadline = min(deadline, logsFlushedAt + Self.logInterval) }
                let now = ContinuousClock.now
                if deadline <= now { break }
                let seconds =
                    Double((deadline - now).components.seconds)
                    + Double((deadline - now).components.attoseconds) / 1e18
                _ = condition.wait(until: Date().addingTimeInterval(seconds))
            }
            // Let a burst gather: wait out the rest of the drain interval.
            let interval = Self.drainInterval(streams: hub.openStreams)
            while !worker.stopping && ContinuousClock.now < drainedAt + interval {
                let rest = drainedAt + interval - ContinuousClock.now
                let seconds = Double(rest.components.seconds) + Double(rest.components.attoseconds) / 1e18
                _ = condition.wait(until: Date().addingTimeInterval(seconds))
            }
            drainedAt = .now
            defer { inputs.removeAll(keepingCapacity: true) }
            return (inputs, worker.stopping)
        }
    }

    private func convert(_ input: Input, into events: inout [ServerEvent]) {
        switch input {
        case .event(let event):
            events.append(event)
        case .log(let progress):
            let key = progress.runID + "\u{0}" + progress.task + "\u{0}" + String(progress.attempt)
            if let earlier = pendingLogs[key], earlier.complete { return }
            pendingLogs[key] = progress
        case .runCreated(let record, let count, let tasks):
            let tally = RunTally(record: record, taskCount: count, tasks: tasks)
            tallies.runs[record.id] = tally
            activeChanged = true
            let summary = RunDocument(summary: record, counts: tally.counts)
            let data = String(decoding: RunDocumentJSON.encode(summary), as: UTF8.self)
            events.append(ServerEvent(kind: .runCreated, runID: record.id, data: data))
        case .batch(let batch):
            convert(batch, into: &events)
        case .remote:
            break  // published apart by the loop, never relayed
        }
    }

    private func convert(_ batch: StoreBatch, into events: inout [ServerEvent]) {
        for (runID, task) in batch.tasks {
            if tallies.runs[runID] == nil { tallies.load(runID, from: store) }
            if let ended = tallies.runs[runID]?.record(task), ended {
                metrics.tasks.increment([task.status.rawValue])
            }
            var data = JSONText()
            data.add("run", runID)
            data.add("task", json: Self.taskJSON(task))
            events.append(ServerEvent(kind: .taskUpdated, runID: runID, task: task.name, data: data.string))
        }
        for attempt in batch.attempts {
            if let finished = attempt.finishedAt {
                metrics.attempts.increment([attempt.status.rawValue])
                metrics.taskDuration.observe(finished.timeIntervalSince(attempt.startedAt))
            } else if let queued = attempt.queuedAt {
                metrics.queueWait.observe(attempt.startedAt.timeIntervalSince(queued))
            }
        }
        var changedActive = false
        for run in batch.runs {
            if tallies.runs[run.id] == nil { tallies.load(run.id, from: store) }
            var data = JSONText()
            data.add("id", run.id)
            data.add("status", run.status.rawValue)
            data.add("started_at", run.startedAt)
            data.add("finished_at", run.finishedAt)
            data.add("cancel_requests", run.cancelRequests)
            if let tally = tallies.runs[run.id] {
                data.add("counts", json: JSONText.object(tally.countsByName))
                if tally.status != run.status { changedActive = true }
                if run.status.isTerminal && !tally.status.isTerminal {
                    metrics.runs.increment([run.status.rawValue, tally.trigger])
                    if let started = run.startedAt, let finished = run.finishedAt {
                        metrics.runDuration.observe(finished.timeIntervalSince(started))
                    }
                }
                tallies.runs[run.id]?.status = run.status
            }
            events.append(ServerEvent(kind: .runUpdated, runID: run.id, data: data.string))
            if run.status.isTerminal {
                tallies.runs[run.id] = nil
                changedActive = true
            }
        }
        if changedActive { activeChanged = true }
    }

    private func flushLogs(into events: inout [ServerEvent]) {
        for progress in pendingLogs.values.sorted(by: {
            ($0.runID, $0.task, $0.attempt) < ($1.runID, $1.task, $1.attempt)
        }) {
            var data = JSONText()
            data.add("run", progress.runID)
            data.add("task", progress.task)
            data.add("attempt", progress.attempt)
            data.add("size", progress.bytes)
            data.add("complete", progress.complete)
            events.append(
                ServerEvent(kind: .logAppended, runID: progress.runID, task: progress.task, data: data.string))
        }
        pendingLogs.removeAll(keepingCapacity: true)
    }

    private func updateActive() {
        var counts: [RunStatus: Int] = [:]
        for tally in tallies.runs.values where !tally.status.isTerminal { counts[tally.status, default: 0] += 1 }
        activeLock.withLock { active = counts }
    }

    /// A task as in the Run document (`TaskDocument`), as one line of JSON: the very
    /// bytes `GET /v1/runs/{id}` has for it (one writer for every client).
    static func taskJSON(_ task: TaskRecord) -> String {
        var json = JSONBytes(capacity: 256)
        RunDocumentJSON.write(TaskDocument(task), into: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
