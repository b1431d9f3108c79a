/// Decoding of one native task (SPEC §1 Task). This runs once per task, so it builds no
/// strings unless something is wrong.
extension SpecDecoder {
    /// The keys of a native task.
    enum TaskKey: String, CaseIterable {
        case name, command, group
        case dependsOn = "depends_on"
        case trigger
        case timeoutSeconds = "timeout_seconds"
        case onTimeout = "on_timeout"
        case retries
        case retryExitCodes = "retry_exit_codes"
        case retryDelaySeconds = "retry_delay_seconds"
        case retryBackoff = "retry_backoff"
        case retryMaxDelaySeconds = "retry_max_delay_seconds"
        case critical, forever, restartable, env, cwd, ssh
        case runsOn = "runs_on"
        // A sub-workflow instead of a command: a stored one by name, or one written in place.
        case workflow, tasks, groups, mode
        case maxParallel = "max_parallel"

        /// One hash per member instead of a chain of string comparisons.
        static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
    }

    static let taskKeys = TaskKey.allCases.map(\.rawValue)

    /// The task at `tasks[index]`, and whether its name could be read.
    mutating func decodeTask(_ value: SpecValue, index: Int) -> (TaskSpec, named: Bool) {
        // A valid placeholder: a task that failed to decode is reported, never run.
        var task = TaskSpec(name: "", command: .shell(":"))
        func path() -> SpecPath { SpecPath.root.key("tasks").index(index) }
        guard let members = members(value, at: path()) else { return (task, false) }
        var named = false
        var hasName = false
        var hasCommand = false
        var hasTimeout = false
        var workflowName: String?
        var nested: [SpecMember] = []
        for member in members {
            let value = member.value
            guard let key = TaskKey.byName[member.key] else {
                unknownKey(member.key, in: path(), known: Self.taskKeys)
                continue
            }
            // `key: null` (in YAML, a key with nothing after it) means "not given", except
            // for the required keys, whose decoders report it.
            if value.isNull, key != .name, key != .command { continue }
            func keyPath() -> SpecPath { path().key(member.key) }
            switch key {
            case .name:
                hasName = true
                if let name = string(value, at: keyPath()) {
                    task.name = name
                    named = true
                }
            case .command:
                hasCommand = true
                if let command = command(value, at: keyPath()) { task.command = command }
            case .group:
                task.group = string(value, at: keyPath())
            case .dependsOn:
                if let names = stringList(value, at: keyPath()) { task.dependsOn = names }
            case .trigger:
                if let trigger = choice(value, at: keyPath(), among: DependencyTrigger.allCases) {
                    task.trigger = trigger
                }
            case .timeoutSeconds:
                hasTimeout = true
                if let seconds = number(value, at: keyPath()) { task.timeoutSeconds = seconds }
            case .onTimeout:
                task.onTimeout = command(value, at: keyPath())
            case .retries:
                if let retries = int(value, at: keyPath()) { task.retries = retries }
            case .retryExitCodes:
                if let codes = decodeExitCodes(value, at: keyPath()) { task.retryExitCodes = codes }
            case .retryDelaySeconds:
                if let seconds = number(value, at: keyPath()) { task.retryDelaySeconds = seconds }
            case .retryBackoff:
                if let backoff = choice(value, at: keyPath(), among: RetryBackoff.allCases) {
                    task.retryBackoff = backoff
                }
            case .retryMaxDelaySeconds:
                if let seconds = number(value, at: keyPath()) { task.retryMaxDelaySeconds = seconds }
            case .critical:
                if let flag = bool(value, at: keyPath()) { task.critical = flag }
            case .forever:
                if let flag = bool(value, at: keyPath()) { task.forever = flag }
            case .restartable:
                if let flag = bool(value, at: keyPath()) { task.restartable = flag }
            case .env:
                if let env = stringMap(value, at: keyPath()) { task.env = env }
            case .cwd:
                task.cwd = string(value, at: keyPath())
            case .runsOn:
                if let labels = labelMap(value, at: keyPath()) { task.runsOn = labels }
            case .ssh:
                switch decodeTaskSSH(value, at: keyPath()) {
                case .target(let target): task.ssh = target
                case .named(let name): sshReferences.append((index, name))
                case nil: break
                }
            case .workflow:
                workflowName = string(value, at: keyPath())
            case .tasks, .groups, .mode, .maxParallel:
                nested.append(member)
            }
        }
        if !hasName { fail(path().key("name"), "is required") }
        if workflowName != nil || !nested.isEmpty {
            decodeSubWorkflow(
                into: &task, name: workflowName, nested: nested, hasCommand: hasCommand, hasTimeout: hasTimeout,
                at: path())
        } else if !hasCommand {
            fail(path().key("command"), "is required")
        }
        return (task, named)
    }

    /// A task that runs a workflow: `workflow: NAME` (resolved later against the stored
    /// workflows) and/or `tasks:` (with `groups`, `mode`, `max_parallel`) written in place;
    /// with both, the name only says where the nested tasks came from (the stored form).
    private mutating func decodeSubWorkflow(
        into task: inout TaskSpec, name: String?, nested: [SpecMember], hasCommand: Bool, hasTimeout: Bool,
        at path: SpecPath
    ) {
        if hasCommand {
            fail(path.key("command"), "a task runs a command or a workflow (workflow, tasks), not both")
        }
        if task.ssh != nil { fail(path.key("ssh"), "a task that runs a workflow has no ssh target") }
        if task.forever { fail(path.key("forever"), "a task that runs a workflow cannot be forever") }
        var spec: WorkflowSpec?
        if !nested.isEmpty {
            if nested.contains(where: { $0.key == "tasks" }) {
                do {
                    var parsed = try SpecParser.parseNative(nested, maxTasks: maxTasks)
                    parsed.name = task.name
                    spec = parsed
                } catch {
                    for inner in error.errors {
                        fail(SpecError(path: "\(path).\(inner.path)", message: inner.message))
                    }
                }
            } else {
                fail(
                    path.key("tasks"), "is required with groups, mode or max_parallel (they describe a nested workflow)"
                )
            }
        }
        task.subWorkflow = SubWorkflow(name: name, spec: spec)
        task.command = .argv([])
        // A workflow takes as long as its tasks do: no 300 s default limit.
        if !hasTimeout { task.timeoutSeconds = 0 }
    }

    /// Exit codes: integers that fit an `Int32` (the 0…255 range is the validator's check).
    private mutating func decodeExitCodes(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [Int32]? {
        guard let elements = list(value, at: path()) else { return nil }
        var codes: [Int32] = []
        codes.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let number = int(element, at: path().index(index)) else { continue }
            guard let code = Int32(exactly: number) else {
                fail(path().index(index), SpecMessages.exitCodeRange)
                continue
            }
            codes.append(code)
        }
        return codes.count == elements.count ? codes : nil
    }
}
