/// Decoding of one native task (SPEC §1 Task). This runs once per task, so it builds no
/// strings unless something is wrong.
extension SpecDecoder {
    static let taskKeys = [
        "name", "command", "group", "depends_on", "trigger", "timeout_seconds", "on_timeout", "retries",
        "retry_exit_codes", "retry_delay_seconds", "retry_backoff", "retry_max_delay_seconds", "critical",
        "forever", "restartable", "env", "cwd",
    ]

    /// The task at `tasks[index]`, and whether its name could be read.
    mutating func decodeTask(_ value: SpecValue, index: Int) -> (TaskSpec, named: Bool) {
        // A valid placeholder: a task that failed to decode is reported, never run.
        var task = TaskSpec(name: "", command: .shell(":"))
        func path() -> SpecPath { SpecPath.root.key("tasks").index(index) }
        guard let members = members(value, at: path()) else { return (task, false) }
        var named = false
        var hasName = false
        var hasCommand = false
        for member in members {
            let value = member.value
            // `key: null` (in YAML, a key with nothing after it) means "not given", except
            // for the required keys, whose decoders report it.
            if value.isNull, member.key != "name", member.key != "command", Self.taskKeys.contains(member.key) {
                continue
            }
            switch member.key {
            case "name":
                hasName = true
                if let name = string(value, at: path().key("name")) {
                    task.name = name
                    named = true
                }
            case "command":
                hasCommand = true
                if let command = command(value, at: path().key("command")) { task.command = command }
            case "group":
                task.group = string(value, at: path().key("group"))
            case "depends_on":
                if let names = stringList(value, at: path().key("depends_on")) { task.dependsOn = names }
            case "trigger":
                if let trigger = choice(value, at: path().key("trigger"), among: DependencyTrigger.allCases) {
                    task.trigger = trigger
                }
            case "timeout_seconds":
                if let seconds = number(value, at: path().key("timeout_seconds")) { task.timeoutSeconds = seconds }
            case "on_timeout":
                task.onTimeout = command(value, at: path().key("on_timeout"))
            case "retries":
                if let retries = int(value, at: path().key("retries")) { task.retries = retries }
            case "retry_exit_codes":
                if let codes = decodeExitCodes(value, at: path().key("retry_exit_codes")) {
                    task.retryExitCodes = codes
                }
            case "retry_delay_seconds":
                if let seconds = number(value, at: path().key("retry_delay_seconds")) {
                    task.retryDelaySeconds = seconds
                }
            case "retry_backoff":
                if let backoff = choice(value, at: path().key("retry_backoff"), among: RetryBackoff.allCases) {
                    task.retryBackoff = backoff
                }
            case "retry_max_delay_seconds":
                if let seconds = number(value, at: path().key("retry_max_delay_seconds")) {
                    task.retryMaxDelaySeconds = seconds
                }
            case "critical":
                if let flag = bool(value, at: path().key("critical")) { task.critical = flag }
            case "forever":
                if let flag = bool(value, at: path().key("forever")) { task.forever = flag }
            case "restartable":
                if let flag = bool(value, at: path().key("restartable")) { task.restartable = flag }
            case "env":
                if let env = stringMap(value, at: path().key("env")) { task.env = env }
            case "cwd":
                task.cwd = string(value, at: path().key("cwd"))
            default:
                unknownKey(member.key, in: path(), known: Self.taskKeys)
            }
        }
        if !hasName { fail(path().key("name"), "is required") }
        if !hasCommand { fail(path().key("command"), "is required") }
        return (task, named)
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
