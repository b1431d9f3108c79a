import BatonCore
import Foundation

/// What the v1 handlers need: the store (reads and new runs), the executor (start and
/// cancel), where logs live, and the limits.
public struct APIContext: Sendable {
    public var store: any RunStore
    /// Stored workflows and keyed runs (usually the same SQLite store).
    public var workflows: any WorkflowStore
    /// Delivery records of `notify`, shown in Runs.
    public var notifications: any NotificationStore
    /// Where new runs are written, run, tasks and notifications in one transaction.
    public var runCreation: any RunCreationStore
    public var control: any RunControl
    public var dataDirectory: URL
    /// SPEC §4: tasks per run (default 100,000).
    public var maxTasks: Int
    /// Cores used for the original format's parallel groups (max(1, cores ÷ 2)).
    public var cores: Int
    /// Bearer token required on `/v1` (nil: no authentication, loopback only).
    public var token: String?
    /// Change counters of runs, bumped by the executor and the notifier after each write.
    public var revisions: RunRevisions
    /// Called after a stored workflow is created, replaced, deleted, paused or resumed, so
    /// that the cron ticker re-plans at once.
    public var workflowsChanged: @Sendable () -> Void = {}
    /// Live events and metrics (nil in tests that do not need them: no streams, no
    /// long-polls, `/metrics` answers 404).
    public var live: LiveEvents?
    /// Recent webhook deliveries per workflow, for the console.
    public var deliveries = DeliveryLog()
    /// `--metrics-public`: `/metrics` needs no token.
    public var metricsPublic = false
    /// Serve the web console at `/` (`--no-ui` turns it off).
    public var console = true
    /// The largest webhook body (`--max-hook-body-bytes`, default 1 MiB): CI payloads are
    /// small, and hooks need no token, so a stranger must not make the server buffer more.
    public var maxHookBodyBytes = 1 << 20

    /// The nodes for `GET /v1/nodes` (nil: the route answers 404).
    public var nodes: (@Sendable () throws -> [ClusterNode])?
    /// Cluster mode: where an attempt's log is when another node ran it (nil: every log is
    /// in `dataDirectory`).
    public var remoteLogs:
        (@Sendable (_ runID: String, _ taskIndex: Int, _ attempt: Int) throws -> (node: String, url: String?)?)?
    /// Whether `GET /v1/runs/{id}` may answer from its rendering cache while the run's
    /// revision has not moved. False in cluster mode: revisions count this node's writes,
    /// and another node may be the one executing the run.
    public var cachesRunDocuments = true

    /// How often a long-poll looks at the store again although no event woke it (nil:
    /// never). Cluster mode: another node's events reach this one only once it knows
    /// this node has watchers, so a change in the first instants of a wait could be missed.
    public var longPollRecheck: Duration?

    /// The one way the handlers create runs.
    var creator: RunCreator { RunCreator(store: runCreation, control: control) }

    public init(
        store: any RunStore & WorkflowStore & NotificationStore & RunCreationStore, control: any RunControl,
        dataDirectory: URL,
        maxTasks: Int = 100_000,
        cores: Int = ProcessInfo.processInfo.activeProcessorCount, token: String? = nil,
        revisions: RunRevisions = RunRevisions()
    ) {
        self.revisions = revisions
        self.store = store
        self.workflows = store
        self.notifications = store
        self.runCreation = store
        self.control = control
        self.dataDirectory = dataDirectory
        self.maxTasks = maxTasks
        self.cores = cores
        self.token = token
    }
}
