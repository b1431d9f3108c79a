import Foundation

/// Changes produced by one round of the engine, written in one transaction.
public struct StoreBatch: Sendable, Equatable {
    public var runs: [RunUpdate] = []
    /// Full task rows to upsert, keyed by run.
    public var tasks: [(runID: String, task: TaskRecord)] = []
    /// Attempt rows to upsert (keyed by run, task index, attempt).
    public var attempts: [AttemptRecord] = []

    public init() {}

    public var isEmpty: Bool { runs.isEmpty && tasks.isEmpty && attempts.isEmpty }

    public static func == (lhs: StoreBatch, rhs: StoreBatch) -> Bool {
        lhs.runs == rhs.runs && lhs.attempts == rhs.attempts
            && lhs.tasks.elementsEqual(rhs.tasks) { $0.runID == $1.runID && $0.task == $1.task }
    }
}

/// A filter and a page of the runs list, newest first (SPEC §4 `GET /v1/runs`).
public struct RunQuery: Sendable, Equatable {
    public var status: RunStatus?
    public var name: String?
    public var workflow: String?
    public var limit: Int
    /// Opaque cursor from a previous page's `nextCursor`.
    public var cursor: String?

    public init(
        status: RunStatus? = nil, name: String? = nil, workflow: String? = nil, limit: Int = 50,
        cursor: String? = nil
    ) {
        self.status = status
        self.name = name
        self.workflow = workflow
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page of runs and the cursor of the next page (nil on the last one).
public struct RunPage: Sendable, Equatable {
    public var runs: [RunRecord]
    public var nextCursor: String?

    public init(runs: [RunRecord], nextCursor: String?) {
        self.runs = runs
        self.nextCursor = nextCursor
    }
}

/// Errors a store reports in terms the callers can act on.
public enum RunStoreError: Error, Equatable, CustomStringConvertible {
    /// The cursor was not produced by this store.
    case invalidCursor(String)
    /// The database was written by a newer Baton.
    case newerSchema(found: String)
    case duplicateRun(String)
    /// A write failed for lack of space (the disk of the data directory is full).
    case storageFull(String)

    public var description: String {
        switch self {
        case .invalidCursor(let cursor): return "invalid cursor \"\(cursor)\""
        case .newerSchema(let found):
            return "the database was written by a newer Baton (unknown migration \(found)); refusing to open it"
        case .duplicateRun(let id): return "run \(id) already exists"
        case .storageFull(let detail): return "the store cannot write: \(detail)"
        }
    }
}

/// The port through which the engine and the API persist runs (SPEC §3). One serialized
/// writer; reads may run concurrently with it.
public protocol RunStore: Sendable {
    /// Inserts a new run with all its tasks in one transaction; returns once durable.
    func insertRun(_ run: RunRecord, tasks: [TaskRecord]) throws
    /// Applies one engine round of changes in one transaction.
    func apply(_ batch: StoreBatch) throws
    func run(id: String) throws -> RunRecord?
    /// The tasks of a run, ordered by index.
    func tasks(runID: String) throws -> [TaskRecord]
    /// One task of a run by its name, nil when there is none.
    func task(runID: String, named name: String) throws -> TaskRecord?
    /// The attempts of one task, ordered by attempt number.
    func attempts(runID: String, taskIndex: Int) throws -> [AttemptRecord]
    /// One page of runs, newest first. Their `specJSON` is empty: a runs page shows
    /// summaries, and a stored spec can be megabytes (`run(id:)` has it).
    func listRuns(_ query: RunQuery) throws -> RunPage
    /// Runs whose status is `queued` or `running`, oldest first.
    func unfinishedRuns() throws -> [RunRecord]
    /// Tasks per status of one run, counted by the store (a runs page must not load every
    /// task of every run).
    func taskCounts(runID: String) throws -> [TaskStatus: Int]
    /// Why writes are failing right now, nil while they succeed.
    var writeProblem: String? { get }
    /// Up to `limit` tasks of a run from index `from` on, in index order, matching the
    /// filters (nil: any).
    func tasks(runID: String, from: Int, status: TaskStatus?, group: String?, limit: Int) throws -> [TaskRecord]
    /// Every attempt of every task of a run, by task index then attempt.
    func attempts(runID: String) throws -> [AttemptRecord]
}

extension RunStore {
    /// Why writes are failing right now (e.g. the disk is full), nil while they succeed;
    /// `/healthz` reports it. A store that cannot tell says nil.
    public var writeProblem: String? { nil }

    /// A store without its own paging query filters the whole task list.
    public func tasks(runID: String, from: Int, status: TaskStatus?, group: String?, limit: Int) throws
        -> [TaskRecord]
    {
        try tasks(runID: runID).lazy
            .filter {
                $0.index >= from && (status == nil || $0.status == status) && (group == nil || $0.group == group)
            }
            .prefix(limit).map { $0 }
    }

    public func attempts(runID: String) throws -> [AttemptRecord] {
        try tasks(runID: runID).flatMap { try attempts(runID: runID, taskIndex: $0.index) }
    }
}
