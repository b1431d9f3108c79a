/// A decoded spec and what the validator must know about the parts that failed to decode.
///
/// Parts that failed keep valid placeholders (the decoder already reported them), except
/// names: a task or group whose name could not be read is listed here so that it takes no
/// part in the name checks.
struct DecodedSpec {
    var spec: WorkflowSpec
    /// Indices of tasks whose `name` was missing or not a string.
    var unnamedTasks: Set<Int> = []
    /// Indices of groups whose `name` was missing or not a string.
    var unnamedGroups: Set<Int> = []
    /// False when `tasks` was missing or not a list (already reported; "at least one task"
    /// would only repeat it).
    var hasTaskList = true
    /// Set when decoding stopped early (too many tasks): there is nothing to validate.
    var abandoned = false
    /// Which document keys the validator names in its paths.
    var keys: SpecKeyNames = .native
}

/// The document keys that validation messages name, so that a spec in the original YAML
/// format gets paths in its own vocabulary (`tasks[0].TimeoutInMinutes`).
struct SpecKeyNames: Sendable {
    var tasks = "tasks"
    var groups = "groups"
    var mode = "mode"
    var taskName = "name"
    var command = "command"
    var group = "group"
    var timeout = "timeout_seconds"
    var onTimeout = "on_timeout"
    var groupName = "name"
    var groupMode = "mode"

    static let native = SpecKeyNames()
    static let seed = SpecKeyNames(
        taskName: "Name", command: "Command", group: "Group", timeout: "TimeoutInMinutes",
        onTimeout: "RunCommandOnTimeout", groupName: "Group", groupMode: "Mode")
}
