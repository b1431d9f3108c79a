import BatonCore

/// The API's run control in cluster mode: runs start on this node; a cancel of a run that
/// another node executes is queued for that node (which is woken at once) instead of
/// being answered "already ended" by this node's executor, which does not know the run.
public struct ClusterRunControl: RunControl {
    let local: any RunControl
    let store: any ClusterStore

    public init(local: any RunControl, store: any ClusterStore) {
        self.local = local
        self.store = store
    }

    public func submit(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]?, extraEnvironment: [String: String]
    ) {
        local.submit(record, spec: spec, tasks: tasks, extraEnvironment: extraEnvironment)
    }

    /// Accepted once queued in the database for the run's owner (recorded: the owner, or
    /// the node that takes the run over, carries it out).
    public func cancel(runID: String) -> CancelResult {
        if (try? store.postCommand(RunCommand(runID: runID, kind: .cancel))) == true { return .accepted }
        return local.cancel(runID: runID)
    }
}
