import Foundation

/// A stored workflow (SPEC §4 "Stored workflows"): a spec plus how it is triggered.
public struct WorkflowRecord: Sendable, Equatable {
    public var name: String
    /// The validated spec in canonical native JSON (see `SpecEncoder`).
    public var specJSON: Data
    public var schedule: Schedule?
    /// The webhook secret; nil when the workflow has no webhook. Never echoed back.
    public var webhookSecret: String?
    /// Paused workflows neither fire on cron nor accept webhooks.
    public var paused: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// The last cron instant that was handled (fired or deliberately skipped): the
    /// watermark that keeps restarts from firing an instant twice.
    public var lastFiredAt: Date?
    /// The most recent run created from this workflow, by any trigger.
    public var lastRunID: String?

    public init(
        name: String, specJSON: Data, schedule: Schedule? = nil, webhookSecret: String? = nil,
        paused: Bool = false, createdAt: Date, updatedAt: Date, lastFiredAt: Date? = nil,
        lastRunID: String? = nil
    ) {
        self.name = name
        self.specJSON = specJSON
        self.schedule = schedule
        self.webhookSecret = webhookSecret
        self.paused = paused
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastFiredAt = lastFiredAt
        self.lastRunID = lastRunID
    }
}

/// What inserting a keyed run found.
public enum KeyedInsert: Sendable, Equatable {
    case inserted
    /// A run with the same key exists already (a repeated webhook delivery, a cron instant
    /// already fired): its id.
    case duplicate(existingRunID: String)
}

/// Persistence of stored workflows and of keyed runs (cron instants, webhook deliveries):
/// uniqueness is enforced by the database, so restarts and retries cannot duplicate runs.
public protocol WorkflowStore: Sendable {
    /// Creates or replaces; returns true when created. Keeps `createdAt`, `lastFiredAt`
    /// and `lastRunID` of a replaced workflow.
    func upsertWorkflow(_ workflow: WorkflowRecord) throws -> Bool
    func workflow(name: String) throws -> WorkflowRecord?
    /// All workflows by name.
    func workflows() throws -> [WorkflowRecord]
    /// Returns false when there was none.
    func deleteWorkflow(name: String) throws -> Bool
    /// Returns the updated workflow, nil when there is none.
    func setPaused(name: String, paused: Bool) throws -> WorkflowRecord?
    /// Inserts a run and its tasks under a unique `key` in one transaction, also setting
    /// the workflow's `lastRunID` (and `lastFiredAt` when `firedAt` is given).
    func insertKeyedRun(
        _ run: RunRecord, tasks: [TaskRecord], key: String, firedAt: Date?
    ) throws -> KeyedInsert
    /// Moves the cron watermark without creating a run (a fire skipped by policy).
    func markFired(name: String, at instant: Date) throws
    /// Ids of the queued and running runs of each workflow (ids only: the cron ticker asks
    /// on every due instant, and must not decode specs to answer).
    func activeRunIDsByWorkflow() throws -> [String: [String]]
}

extension WorkflowStore where Self: RunCreationStore {
    /// A keyed run without notifications, as `createRun` writes it.
    public func insertKeyedRun(
        _ run: RunRecord, tasks: [TaskRecord], key: String, firedAt: Date?
    ) throws -> KeyedInsert {
        try createRun(NewRunRows(record: run, tasks: tasks, notifications: [], key: key, firedAt: firedAt))
    }
}
