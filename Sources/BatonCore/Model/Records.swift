import Foundation

/// A run as persisted: identity, status and the spec it executes.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The stored workflow it came from, if any.
    public var workflow: String?
    public var status: RunStatus
    public var trigger: RunTrigger
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The validated spec in canonical native JSON (see `SpecEncoder`).
    public var specJSON: Data
    /// Hex SHA-256-like digest of `specJSON`, used by `baton run` to find its own unfinished run.
    public var specHash: String
    /// How many times a client asked to cancel (SPEC §2: a second cancel also stops `runalways`).
    public var cancelRequests: Int
    /// Set once the run deadline has fired.
    public var deadlineHit: Bool

    public init(
        id: String, name: String, workflow: String? = nil, status: RunStatus = .queued,
        trigger: RunTrigger = .api, createdAt: Date, startedAt: Date? = nil,
        finishedAt: Date? = nil, specJSON: Data, specHash: String, cancelRequests: Int = 0,
        deadlineHit: Bool = false
    ) {
        self.id = id
        self.name = name
        self.workflow = workflow
        self.status = status
        self.trigger = trigger
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.specJSON = specJSON
        self.specHash = specHash
        self.cancelRequests = cancelRequests
        self.deadlineHit = deadlineHit
    }
}

/// The mutable part of a run, written whenever it changes.
public struct RunUpdate: Sendable, Equatable {
    public var id: String
    public var status: RunStatus
    public var startedAt: Date?
    public var finishedAt: Date?
    public var cancelRequests: Int
    public var deadlineHit: Bool

    public init(
        id: String, status: RunStatus, startedAt: Date?, finishedAt: Date?, cancelRequests: Int,
        deadlineHit: Bool
    ) {
        self.id = id
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.cancelRequests = cancelRequests
        self.deadlineHit = deadlineHit
    }
}

/// One task of a run as persisted; `index` is its position in the spec's `tasks`.
public struct TaskRecord: Sendable, Equatable {
    public var index: Int
    public var name: String
    public var group: String?
    public var status: TaskStatus
    /// Attempts started so far (0 before the first start).
    public var attempt: Int
    /// Failed or timed-out attempts so far (what the retry budget counts).
    public var failures: Int
    public var exitCode: Int32?
    public var signal: Int32?
    public var reason: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The live process group (its leader's pid) while running, so a restarted server can
    /// kill what the previous one left behind.
    public var pgid: Int32?
    /// When a pending retry is due.
    public var retryAt: Date?

    public init(
        index: Int, name: String, group: String?, status: TaskStatus = .pending, attempt: Int = 0,
        failures: Int = 0, exitCode: Int32? = nil, signal: Int32? = nil, reason: String? = nil,
        startedAt: Date? = nil, finishedAt: Date? = nil, pgid: Int32? = nil, retryAt: Date? = nil
    ) {
        self.index = index
        self.name = name
        self.group = group
        self.status = status
        self.attempt = attempt
        self.failures = failures
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.pgid = pgid
        self.retryAt = retryAt
    }
}

/// One execution of a task; each has its own log file.
public struct AttemptRecord: Sendable, Equatable {
    public var runID: String
    public var taskIndex: Int
    public var attempt: Int
    public var startedAt: Date
    public var finishedAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var status: TaskStatus
    /// Relative to the data directory, e.g. `logs/<run>/<task>/1.log`.
    public var logPath: String
    /// When the attempt became ready to start (dependencies met, retry due): from here to
    /// `startedAt` it waited for a worker slot. Nil for attempts recorded before Baton kept it.
    public var queuedAt: Date?

    public init(
        runID: String, taskIndex: Int, attempt: Int, startedAt: Date, finishedAt: Date? = nil,
        exitCode: Int32? = nil, signal: Int32? = nil, status: TaskStatus = .running,
        logPath: String, queuedAt: Date? = nil
    ) {
        self.queuedAt = queuedAt
        self.runID = runID
        self.taskIndex = taskIndex
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.signal = signal
        self.status = status
        self.logPath = logPath
    }
}
