import BatonCore
import Foundation

/// How an `Executor` runs tasks.
public struct ExecutorConfiguration: Sendable {
    /// Logs live under `<dataDirectory>/logs/`.
    public var dataDirectory: URL
    /// Size of the worker pool (SPEC §2 `--workers`).
    public var workers: Int
    /// Per-attempt log cap (SPEC §2: 10 MiB, then a truncation marker).
    public var logCapBytes: Int
    /// The environment every task starts from: Baton's own, minus the server's secrets.
    public var baseEnvironment: [String: String]
    /// Upper bound on how long a server shutdown waits between SIGTERM and SIGKILL.
    public var shutdownGraceSeconds: Double
    /// Turns a stored canonical spec back into a spec, to resume runs (the core's parser).
    public var decodeSpec: @Sendable (Data) throws -> WorkflowSpec
    /// Cluster mode: where attempts without a local slot go, and where this node finds
    /// other nodes' attempts to run (nil: every attempt runs here).
    public var dispatch: (any TaskDispatch)?
    /// This node's name in reasons (`interrupted: node N stopped`).
    public var nodeName: String
    /// This node's labels (`--labels`): a task's `runs_on` must be a subset to run here.
    public var labels: [String: String]
    /// How long a round's changes may wait for the next rounds' to share one commit (0:
    /// every round commits). Worth it where a commit is a network round trip (PostgreSQL);
    /// the price is that a task shorter than the window may show no `running` state to
    /// observers (its changes are merged into one row).
    public var commitWindow: TimeInterval

    public init(
        dataDirectory: URL, decodeSpec: @escaping @Sendable (Data) throws -> WorkflowSpec,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        logCapBytes: Int = 10 * 1024 * 1024,
        baseEnvironment: [String: String] = TaskEnvironment.inherited(),
        shutdownGraceSeconds: Double = 10, dispatch: (any TaskDispatch)? = nil, nodeName: String = "local",
        labels: [String: String] = [:], commitWindow: TimeInterval = 0
    ) {
        self.labels = labels
        self.commitWindow = commitWindow
        self.dispatch = dispatch
        self.nodeName = nodeName
        self.dataDirectory = dataDirectory
        self.workers = workers
        self.logCapBytes = logCapBytes
        self.baseEnvironment = baseEnvironment
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.decodeSpec = decodeSpec
    }
}

/// Composes task environments (SPEC §1: precedence, lowest first: Baton's environment, the
/// run's `env`, the task's `env`, then the `BATON_*` variables).
public enum TaskEnvironment {
    /// Variables of the server that must never reach a task.
    public static let secretNames: Set<String> = ["BATON_TOKEN", "BATON_TOKEN_FILE"]

    /// Baton's own environment without its secrets.
    public static func inherited() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !secretNames.contains($0.key) }
    }

    /// The complete environment of one attempt.
    public static func compose(
        base: [String: String], plan: SpawnPlanEnvironment
    ) -> [String: String] {
        var env = base
        for (key, value) in plan.env { env[key] = value }
        env["BATON_RUN_ID"] = plan.runID
        env["BATON_TASK"] = plan.taskName
        env["BATON_ATTEMPT"] = String(plan.attempt)
        for (key, value) in plan.extra { env[key] = value }
        return env
    }
}

/// The parts of a spawn that shape its environment.
public struct SpawnPlanEnvironment: Sendable {
    public var runID: String
    public var taskName: String
    public var attempt: Int
    public var env: [String: String]
    /// Per-run additions of the adapters (e.g. `BATON_WEBHOOK_PAYLOAD`).
    public var extra: [String: String]

    public init(
        runID: String, taskName: String, attempt: Int, env: [String: String],
        extra: [String: String] = [:]
    ) {
        self.runID = runID
        self.taskName = taskName
        self.attempt = attempt
        self.env = env
        self.extra = extra
    }
}
