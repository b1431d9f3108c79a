/// A task that runs a whole workflow as one step (seed 003's `SchedulerJob`): the child is
/// a run of its own, with its own id, tasks and logs, started when the task starts; the
/// task ends with the child's outcome.
///
/// A class (immutable, so `Sendable`) because a spec cannot hold itself by value.
public final class SubWorkflow: Sendable, Equatable {
    /// The stored workflow it came from (`workflow: NAME`), if any.
    public let name: String?
    /// The child's spec; nil while a `workflow: NAME` reference is not yet resolved
    /// against the stored workflows (SubWorkflowResolver).
    public let spec: WorkflowSpec?

    /// Workflows nest at most this deep (a run's tasks are depth 1).
    public static let maxDepth = 5

    public init(name: String?, spec: WorkflowSpec?) {
        self.name = name
        self.spec = spec
    }

    public static func == (lhs: SubWorkflow, rhs: SubWorkflow) -> Bool {
        lhs.name == rhs.name && lhs.spec == rhs.spec
    }
}
