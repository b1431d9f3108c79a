import Foundation

/// One attempt of a task as it is handed to another node (cluster mode): what to run and
/// where to log. The claiming node adds its own base environment and data directory.
public struct DispatchedAttempt: Sendable, Equatable, Codable {
    public var runID: String
    public var taskIndex: Int
    public var attempt: Int
    public var taskName: String
    public var argv: [String]
    /// The run's and the task's `env` (the `BATON_*` marks are added by the claimer).
    public var env: [String: String]
    public var cwd: String?
    /// Relative to the data directory of the node that runs it.
    public var logPath: String
    /// The labels the claiming node must have (`runs_on`).
    public var runsOn: [String: String] = [:]

    public init(
        runID: String, taskIndex: Int, attempt: Int, taskName: String, argv: [String], env: [String: String],
        cwd: String?, logPath: String, runsOn: [String: String] = [:]
    ) {
        self.runsOn = runsOn
        self.runID = runID
        self.taskIndex = taskIndex
        self.attempt = attempt
        self.taskName = taskName
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.logPath = logPath
    }

    public var key: DispatchKey { DispatchKey(runID: runID, taskIndex: taskIndex, attempt: attempt) }
}

/// Which attempt: run, task index, attempt number.
public struct DispatchKey: Sendable, Hashable {
    public var runID: String
    public var taskIndex: Int
    public var attempt: Int

    public init(runID: String, taskIndex: Int, attempt: Int) {
        self.runID = runID
        self.taskIndex = taskIndex
        self.attempt = attempt
    }
}

/// How a dispatched attempt ended, for the run's owner.
public struct DispatchOutcome: Sendable, Equatable {
    public var key: DispatchKey
    public var exitCode: Int32?
    public var signal: Int32?
    /// Why it failed when the exit status does not say (the claimer could not spawn it).
    public var failure: String?
    /// Set when the attempt did not end by itself: the node running it was lost or stopped
    /// (the reason names the node). The owner restarts or fails it (SPEC §3).
    public var lost: String?

    public init(key: DispatchKey, exitCode: Int32?, signal: Int32?, failure: String? = nil, lost: String? = nil) {
        self.key = key
        self.exitCode = exitCode
        self.signal = signal
        self.failure = failure
        self.lost = lost
    }
}

/// The port through which the nodes of a cluster share task attempts (issue 9). A run's
/// owner publishes the attempts it has no local slot for; any node with a free slot claims
/// them (each attempt by exactly one node), runs them and reports how they ended; the owner
/// feeds that to its engine like a local exit.
public protocol TaskDispatch: Sendable {
    // The run owner's side.
    /// Queues attempts for any node and wakes the nodes, in one statement; returns the
    /// ones queued (an attempt of a run this node no longer owns is not).
    func publish(_ attempts: [DispatchedAttempt]) throws -> Set<DispatchKey>
    /// Writes `batch` (as `RunStore.apply`) and publishes `attempts` (as `publish`) at
    /// once: the attempts' rows and their publication commit together, in one round trip.
    /// Returns the attempts published.
    func apply(_ batch: StoreBatch, publishing attempts: [DispatchedAttempt]) throws -> Set<DispatchKey>
    /// Takes the outcomes of this node's runs' attempts that ended elsewhere.
    func takeOutcomes() throws -> [DispatchOutcome]
    /// Takes this node's runs' attempts held by nodes silent past `leaseSeconds` (as
    /// outcomes with `lost` set).
    func takeLostAttempts(leaseSeconds: Double) throws -> [DispatchOutcome]
    /// Asks the node running an attempt to signal its process group. False when no node
    /// had claimed it yet: then it is withdrawn, and never runs.
    func stop(_ key: DispatchKey, signal: Int32) throws -> Bool
    /// Withdraws every attempt of these runs (their owner restarts; claimers stop them).
    func withdraw(runIDs: [String]) throws
    /// The runs whose rows the last writes refused because another node owns them now;
    /// taken once. The executor reads it right after each write, before any spawn.
    func takeFencedRuns() -> [String]
    /// The worker slots of every live node: the size of the cluster's pool.
    func liveSlots(leaseSeconds: Double) throws -> Int

    // A claiming node's side.
    /// Claims up to `limit` published attempts whose `runs_on` this node's labels satisfy,
    /// oldest first, none claimed twice.
    func claim(limit: Int) throws -> [DispatchedAttempt]
    /// Reports how claimed attempts ended and wakes their owners, in one statement. The
    /// report of a claim withdrawn meanwhile is dropped.
    func finish(_ outcomes: [DispatchOutcome]) throws
    /// Takes the signals owners asked for attempts this node runs.
    func takeStops() throws -> [(key: DispatchKey, signal: Int32)]
    /// Of the attempts this node claimed and still runs, those it no longer holds (the
    /// owner withdrew them, or took them back as lost while this node was cut off).
    func revokedClaims() throws -> [DispatchKey]
}
