import Foundation

/// Everything a new run writes: the run, its tasks and its notification queue, optionally
/// under a unique key (cron instants, webhook deliveries, manual runs).
public struct NewRunRows: Sendable {
    public var record: RunRecord
    public var tasks: [TaskRecord]
    public var notifications: [NotificationRecord]
    /// With a key, the run is written only if no run has it yet.
    public var key: String?
    /// For a cron fire: the instant, which moves the workflow's watermark.
    public var firedAt: Date?

    public init(
        record: RunRecord, tasks: [TaskRecord], notifications: [NotificationRecord], key: String? = nil,
        firedAt: Date? = nil
    ) {
        self.record = record
        self.tasks = tasks
        self.notifications = notifications
        self.key = key
        self.firedAt = firedAt
    }
}

/// The port that writes a new run in ONE transaction: a crash can never leave a run
/// without its tasks or its notifications.
public protocol RunCreationStore: Sendable {
    /// Writes `rows` in one transaction (also setting the workflow's last run when the
    /// run has one); `.duplicate` when `rows.key` is taken, then nothing is written.
    func createRun(_ rows: NewRunRows) throws -> KeyedInsert
    /// Writes several runs in ONE transaction (a cron tick firing 1,000 workflows pays one
    /// commit, not 1,000), each as `createRun` would; a taken key skips that run only.
    func createRuns(_ rows: [NewRunRows]) throws -> [KeyedInsert]
    /// The spec of stored workflow `name` (for `workflow: NAME` tasks), nil when none.
    func storedWorkflowSpec(named name: String) throws -> WorkflowSpec?
}

extension RunCreationStore {
    /// One transaction per run, for stores that cannot do better. (A store implements
    /// `createRun`, `createRuns` or both: each defaults to the other.)
    public func createRuns(_ rows: [NewRunRows]) throws -> [KeyedInsert] {
        try rows.map { try createRun($0) }
    }

    /// One run, as `createRuns` writes it.
    public func createRun(_ rows: NewRunRows) throws -> KeyedInsert {
        try createRuns([rows])[0]
    }

    /// A store without stored workflows resolves no `workflow: NAME` task.
    public func storedWorkflowSpec(named name: String) throws -> WorkflowSpec? { nil }
}

/// The one place where runs come into being, for every trigger (submit, retry, manual,
/// webhook, cron): commit the rows, then hand the run to the executor.
public struct RunCreator: Sendable {
    /// One run to create: see ``create(_:spec:tasks:key:firedAt:extraEnvironment:)``.
    public struct Request: Sendable {
        public var record: RunRecord
        public var spec: WorkflowSpec
        public var tasks: [TaskRecord]?
        public var key: String?
        public var firedAt: Date?

        public init(
            record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]? = nil, key: String? = nil, firedAt: Date? = nil
        ) {
            self.record = record
            self.spec = spec
            self.tasks = tasks
            self.key = key
            self.firedAt = firedAt
        }
    }

    let store: any RunCreationStore
    let control: any RunControl

    public init(store: any RunCreationStore, control: any RunControl) {
        self.store = store
        self.control = control
    }

    /// - Parameter tasks: the initial task rows (a retry keeps the original's successes);
    ///   nil: one pending row per task of `spec`.
    @discardableResult
    public func create(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]? = nil, key: String? = nil, firedAt: Date? = nil,
        extraEnvironment: [String: String] = [:]
    ) throws -> KeyedInsert {
        let run = try prepare(Request(record: record, spec: spec, tasks: tasks, key: key, firedAt: firedAt))
        let result = try store.createRun(run.rows)
        if case .inserted = result {
            control.submit(run.rows.record, spec: run.spec, tasks: tasks, extraEnvironment: extraEnvironment)
        }
        return result
    }

    /// Several runs committed in one transaction, then handed to the executor (cron fires).
    /// A request that fails to resolve (a `workflow: NAME` task naming a workflow since
    /// deleted) gets its error in place; the others are still created.
    public func createAll(_ requests: [Request]) -> [Result<KeyedInsert, any Error>] {
        var results: [Result<KeyedInsert, any Error>] = []
        var prepared: [(index: Int, run: (rows: NewRunRows, spec: WorkflowSpec))] = []
        for (index, request) in requests.enumerated() {
            do {
                prepared.append((index, try prepare(request)))
                results.append(.success(.inserted))
            } catch {
                results.append(.failure(error))
            }
        }
        let inserts: [Result<KeyedInsert, any Error>]
        do {
            inserts = try store.createRuns(prepared.map(\.run.rows)).map { .success($0) }
        } catch {
            // One bad run must not hold back the others: each on its own then. A store
            // that is not atomic may have committed some already: found under their own
            // id, they count as inserted (they still have to be started).
            inserts = prepared.map { item in
                let id = item.run.rows.record.id
                switch Result(catching: { try store.createRun(item.run.rows) }) {
                case .success(.duplicate(let existing)) where existing == id: return .success(.inserted)
                case .failure(RunStoreError.duplicateRun(let existing)) where existing == id: return .success(.inserted)
                case let other: return other
                }
            }
        }
        for ((index, run), insert) in zip(prepared, inserts) {
            results[index] = insert
            if case .success(.inserted) = insert {
                control.submit(run.rows.record, spec: run.spec, tasks: requests[index].tasks, extraEnvironment: [:])
            }
        }
        return results
    }

    /// The rows of one request, its `workflow: NAME` tasks resolved now: the run keeps
    /// what it was started with (SpecErrors when one is missing, recursive or too deep).
    private func prepare(_ request: Request) throws -> (rows: NewRunRows, spec: WorkflowSpec) {
        var record = request.record
        let spec = try SubWorkflowResolver.resolve(request.spec, name: record.workflow) {
            try store.storedWorkflowSpec(named: $0)
        }
        if spec.tasks.contains(where: { $0.subWorkflow != nil }) { record.specJSON = SpecEncoder.encode(spec) }
        let rows = NewRunRows(
            record: record,
            tasks: request.tasks
                ?? spec.tasks.enumerated().map { index, task in
                    TaskRecord(index: index, name: task.name, group: task.group)
                },
            notifications: NotificationRecord.waiting(for: record.id, spec: spec), key: request.key,
            firedAt: request.firedAt)
        return (rows, spec)
    }
}
