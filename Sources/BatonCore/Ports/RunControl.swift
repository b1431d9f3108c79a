import Foundation

/// What `RunControl.cancel` found.
public enum CancelResult: Sendable, Equatable {
    /// The cancel is recorded; tasks are being stopped.
    case accepted
    /// The run had already ended (HTTP 409).
    case alreadyEnded
    case notFound
}

/// The port through which adapters (HTTP, CLI, cron) hand runs to the executor.
public protocol RunControl: Sendable {
    /// Starts a run that is already committed to the store. `tasks`: its initial task rows
    /// when some are already settled (a retry keeps the original's successes); nil: all
    /// pending.
    func submit(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]?, extraEnvironment: [String: String])
    /// Cancels a run; returns once the cancel is recorded in the store.
    func cancel(runID: String) -> CancelResult
}
