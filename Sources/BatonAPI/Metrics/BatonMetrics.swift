import BatonCore
import Foundation
import Synchronization

/// Every metric of `GET /metrics` (Prometheus naming: `baton_` prefix, base units,
/// `_total` on counters only, closed label sets, no run ids). Counters move with the live
/// events in memory; gauges are read from in-memory figures: a scrape never reads SQLite.
public final class BatonMetrics: Sendable {
    static let runStatuses = RunStatus.allCases.filter(\.isTerminal).map(\.rawValue)
    static let taskStatuses = TaskStatus.allCases.filter(\.isTerminal).map(\.rawValue)
    static let triggers = ["api", "manual", "cron", "webhook", "retry"]
    static let durationBuckets: [Double] = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400]
    static let waitBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600]
    static let lagBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    static let requestBuckets: [Double] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

    let runs = CounterFamily(
        "baton_runs_total", "Runs that ended, by final status and trigger.", labels: ["status", "trigger"],
        known: runStatuses.flatMap { status in triggers.map { [status, $0] } })
    let runDuration = Histogram(
        "baton_run_duration_seconds", "Duration of ended runs, start to end.", buckets: durationBuckets)
    let tasks = CounterFamily(
        "baton_tasks_total", "Tasks that ended, by final status.", labels: ["status"],
        known: taskStatuses.map { [$0] })
    let attempts = CounterFamily(
        "baton_task_attempts_total", "Task attempts that ended, by status.", labels: ["status"],
        known: taskStatuses.map { [$0] })
    let taskDuration = Histogram(
        "baton_task_duration_seconds", "Duration of task attempts, start to end.", buckets: durationBuckets)
    let queueWait = Histogram(
        "baton_task_queue_wait_seconds", "Time from a task attempt being ready to its start.",
        buckets: waitBuckets)
    let cronFires = CounterFamily(
        "baton_schedule_fires_total", "Cron instants handled, by outcome.", labels: ["outcome"],
        known: CronOutcome.allCases.map { [$0.rawValue] })
    let cronLag = Histogram(
        "baton_schedule_fire_lag_seconds", "Delay from a cron instant to its run's creation.", buckets: lagBuckets)
    let webhooks = CounterFamily(
        "baton_webhook_deliveries_total", "Webhook deliveries received, by result.", labels: ["result"],
        known: WebhookResult.allCases.map { [$0.rawValue] })
    let notifications = CounterFamily(
        "baton_notifications_total", "Notification deliveries that ended, by result.", labels: ["result"],
        known: [["delivered"], ["failed"]])
    let requests = CounterFamily(
        "baton_http_requests_total", "HTTP requests answered, by route template and status class.",
        labels: ["route", "code"])
    let requestDuration = Histogram(
        "baton_http_request_duration_seconds", "Time to answer HTTP requests (long-polls and streams included).",
        buckets: requestBuckets)
    let eventsSent = CounterFamily("baton_events_sent_total", "Events written to event streams.")
    let eventChunksDirect = CounterFamily(
        "baton_event_chunks_direct_total",
        "Batches of events the event thread wrote straight to a caught-up stream's socket.")
    let streamCloses = CounterFamily(
        "baton_event_stream_closes_total", "Event streams that ended, by reason.", labels: ["reason"],
        known: StreamCloseReason.allCases.map { [$0.rawValue] })

    /// Figures owned elsewhere, read at scrape time.
    struct Sources: Sendable {
        var workers: @Sendable () -> Int = { 0 }
        var busySlots: @Sendable () -> Int = { 0 }
        var readyTasks: @Sendable () -> Int = { 0 }
        var activeRuns: @Sendable () -> [RunStatus: Int] = { [:] }
        var openStreams: @Sendable () -> Int = { 0 }
        /// Cluster mode: round trips to PostgreSQL so far (nil: SQLite, not shown).
        var databaseRoundTrips: (@Sendable () -> Int)?
    }

    private let sources: Mutex<Sources>
    let version: String

    public init(version: String) {
        self.version = version
        sources = Mutex(Sources())
        _ = ProcessFigures.startTime
    }

    func setSources(_ update: (inout Sources) -> Void) {
        sources.withLock { update(&$0) }
    }

    /// Where the worker-pool gauges come from (the executor's figures).
    public func readPool(
        workers: @escaping @Sendable () -> Int, busy: @escaping @Sendable () -> Int,
        ready: @escaping @Sendable () -> Int
    ) {
        setSources { sources in
            sources.workers = workers
            sources.busySlots = busy
            sources.readyTasks = ready
        }
    }

    /// Cluster mode: where the count of round trips to PostgreSQL comes from.
    public func readDatabase(roundTrips: @escaping @Sendable () -> Int) {
        setSources { $0.databaseRoundTrips = roundTrips }
    }

    /// The Prometheus text exposition.
    public func render() -> String {
        let figures = sources.withLock { $0 }
        var text = ""
        text.reserveCapacity(8192)
        GaugeFamily("baton_build_info", "Build information; always 1.", labels: ["version"]) { [version] in
            [([version], 1)]
        }.render(into: &text)
        runs.render(into: &text)
        runDuration.render(into: &text)
        GaugeFamily("baton_runs_active", "Runs not ended yet, by status.", labels: ["status"]) {
            let active = figures.activeRuns()
            return [RunStatus.queued, .running].map { ([$0.rawValue], Double(active[$0] ?? 0)) }
        }.render(into: &text)
        tasks.render(into: &text)
        attempts.render(into: &text)
        taskDuration.render(into: &text)
        queueWait.render(into: &text)
        GaugeFamily("baton_tasks_ready", "Tasks ready to start, waiting for a worker slot or a limit.") {
            Double(figures.readyTasks())
        }.render(into: &text)
        GaugeFamily("baton_worker_slots", "Worker pool size.") { Double(figures.workers()) }.render(into: &text)
        GaugeFamily("baton_worker_slots_busy", "Worker slots in use.") { Double(figures.busySlots()) }
            .render(into: &text)
        cronFires.render(into: &text)
        cronLag.render(into: &text)
        webhooks.render(into: &text)
        notifications.render(into: &text)
        requests.render(into: &text)
        requestDuration.render(into: &text)
        GaugeFamily("baton_event_streams", "Open event streams.") { Double(figures.openStreams()) }
            .render(into: &text)
        eventsSent.render(into: &text)
        eventChunksDirect.render(into: &text)
        streamCloses.render(into: &text)
        if let roundTrips = figures.databaseRoundTrips {
            // Read from the store's own counter: a counter family without labels.
            let name = "baton_postgres_round_trips_total"
            text += "# HELP \(name) Statements sent to PostgreSQL and answered (one round trip each).\n"
            text += "# TYPE \(name) counter\n\(name) \(roundTrips())\n"
        }
        GaugeFamily("process_resident_memory_bytes", "Resident memory size in bytes.") {
            ProcessFigures.residentBytes()
        }.render(into: &text)
        GaugeFamily("process_open_fds", "Number of open file descriptors.") { ProcessFigures.openDescriptors() }
            .render(into: &text)
        GaugeFamily("process_max_fds", "Maximum number of open file descriptors.") {
            ProcessFigures.maxDescriptors()
        }.render(into: &text)
        GaugeFamily("process_start_time_seconds", "Start time of the process since unix epoch in seconds.") {
            ProcessFigures.startTime
        }.render(into: &text)
        return text
    }

    /// Counts one answered request under its route template and status class.
    public func requestCompleted(route: String?, status: Int?, seconds: Double) {
        let code = status.map { "\($0 / 100)xx" } ?? "none"
        requests.increment([route ?? "unmatched", code])
        requestDuration.observe(seconds)
    }

    /// Counts one handled cron instant.
    public func cronHandled(_ outcome: CronOutcome, lagSeconds: Double?) {
        cronFires.increment([outcome.rawValue])
        if let lagSeconds { cronLag.observe(lagSeconds) }
    }

    /// Counts one finished notification delivery.
    public func notificationEnded(delivered: Bool) {
        notifications.increment([delivered ? "delivered" : "failed"])
    }
}

/// What became of a webhook delivery.
public enum WebhookResult: String, Sendable, CaseIterable {
    case accepted, duplicate
    case badSignature = "bad_signature"
    case unknownHook = "unknown_hook"
    case invalid
}

/// Why an event stream ended.
public enum StreamCloseReason: String, Sendable, CaseIterable {
    case client, overflow, shutdown
    /// Refused at open: too many streams.
    case limit
}
