/// A ``RunControl`` that tells an observer about every run handed to the executor, from
/// any source (API, retry, manual, webhook, cron): where live `run.created` events start.
public struct ObservedRunControl: RunControl {
    let inner: any RunControl
    let onSubmit: @Sendable (RunRecord, WorkflowSpec, [TaskRecord]?) -> Void

    public init(
        _ inner: any RunControl, onSubmit: @escaping @Sendable (RunRecord, WorkflowSpec, [TaskRecord]?) -> Void
    ) {
        self.inner = inner
        self.onSubmit = onSubmit
    }

    public func submit(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]?, extraEnvironment: [String: String]
    ) {
        // Before the executor sees it: the `run.created` event precedes the run's updates.
        onSubmit(record, spec, tasks)
        inner.submit(record, spec: spec, tasks: tasks, extraEnvironment: extraEnvironment)
    }

    public func cancel(runID: String) -> CancelResult {
        inner.cancel(runID: runID)
    }
}
