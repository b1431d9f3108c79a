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
    /// The spec of stored workflow `name` (for `workflow: NAME` tasks), nil when none.
    func storedWorkflowSpec(named name: String) throws -> WorkflowSpec?
}

extension RunCreationStore {
    /// A store without stored workflows resolves no `workflow: NAME` task.
    public func storedWorkflowSpec(named name: String) throws -> WorkflowSpec? { nil }
}

/// The one place where runs come into being, for every trigger (submit, retry, manual,
/// webhook, cron): commit the rows, then hand the run to the executor.
public struct RunCreator: Sendable {
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
        // `workflow: NAME` tasks get the stored workflow's spec now: the run keeps what it
        // was started with (SpecErrors when one is missing, recursive or nested too deep).
        var record = record
        let spec = try SubWorkflowResolver.resolve(spec, name: record.workflow) {
            try store.storedWorkflowSpec(named: $0)
        }
        if spec.tasks.contains(where: { $0.subWorkflow != nil }) { record.specJSON = SpecEncoder.encode(spec) }
        let rows = NewRunRows(
            record: record,
            tasks: tasks
                ?? spec.tasks.enumerated().map { index, task in
                    TaskRecord(index: index, name: task.name, group: task.group)
                },
            notifications: NotificationRecord.waiting(for: record.id, spec: spec), key: key, firedAt: firedAt)
        let result = try store.createRun(rows)
        if case .inserted = result {
            control.submit(record, spec: spec, tasks: tasks, extraEnvironment: extraEnvironment)
        }
        return result
    }
}
