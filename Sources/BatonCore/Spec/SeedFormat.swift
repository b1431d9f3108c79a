/// The original scheduler's YAML format (SPEC §1 "The original YAML format", seed 000):
/// root `mode`, `groups` of `{Group, Strategy, Mode}`, `tasks` of
/// `{Command, Name, Group, TimeoutInMinutes, RunCommandOnTimeout}`.
///
/// It is decoded onto the native model: commands run with `/bin/sh -c`, minutes become
/// seconds (default 5 minutes), and every parallel group gets the original's limit of
/// max(1, cores ÷ 2) tasks at once, made explicit so that the stored spec keeps it.
enum SeedFormat {
    static let rootKeys = ["mode", "groups", "tasks"]
    static let groupKeys = ["Group", "Strategy", "Mode"]
    static let taskKeys = ["Command", "Name", "Group", "TimeoutInMinutes", "RunCommandOnTimeout"]
    /// The original's default task timeout.
    static let defaultTimeoutMinutes = 5.0

    /// Whether `root` is in this format: its first task or first group uses the original's
    /// capitalised keys. (Mixing the formats is then reported key by key.)
    static func matches(_ root: [SpecMember]) -> Bool {
        func firstKeys(of key: String) -> [String] {
            guard case .array(let elements)? = root.first(where: { $0.key == key })?.value,
                let members = elements.lazy.compactMap(\.members).first
            else { return [] }
            return members.map(\.key)
        }
        return firstKeys(of: "tasks").contains(where: taskKeys.contains)
            || firstKeys(of: "groups").contains(where: groupKeys.contains)
    }

    /// At most this many tasks of a parallel group run at once, as in the original.
    static func groupLimit(cores: Int) -> Int {
        max(1, cores / 2)
    }
}

extension SpecDecoder {
    mutating func decodeSeed(_ root: [SpecMember], cores: Int, maxTasks: Int) -> DecodedSpec {
        var decoded = DecodedSpec(spec: WorkflowSpec(tasks: []), keys: .seed)
        var tasks: SpecValue?
        for member in root {
            let path = SpecPath.root.key(member.key)
            guard SeedFormat.rootKeys.contains(member.key) else {
                unknownKey(member.key, in: .root, known: SeedFormat.rootKeys)
                continue
            }
            if member.value.isNull && member.key != "tasks" { continue }
            switch member.key {
            case "mode":
                if let mode = choice(member.value, at: path, among: FailureMode.allCases, caseInsensitive: true) {
                    decoded.spec.mode = mode
                }
            case "groups":
                if let groups = list(member.value, at: path) {
                    for (index, group) in groups.enumerated() {
                        let named = decodeSeedGroup(group, index: index, cores: cores, into: &decoded.spec)
                        if !named { decoded.unnamedGroups.insert(index) }
                    }
                }
            default:
                tasks = member.value
            }
        }
        guard let tasks else {
            fail(SpecPath.root.key("tasks"), "is required")
            decoded.hasTaskList = false
            return decoded
        }
        guard let elements = list(tasks, at: SpecPath.root.key("tasks")) else {
            decoded.hasTaskList = false
            return decoded
        }
        guard checkTaskCount(elements.count, limit: maxTasks) else {
            decoded.abandoned = true
            return decoded
        }
        for (index, element) in elements.enumerated() {
            let (task, named) = decodeSeedTask(element, index: index)
            decoded.spec.tasks.append(task)
            if !named { decoded.unnamedTasks.insert(index) }
        }
        return decoded
    }

    /// Appends the group at `groups[index]`; returns whether its name could be read.
    private mutating func decodeSeedGroup(
        _ value: SpecValue, index: Int, cores: Int, into spec: inout WorkflowSpec
    ) -> Bool {
        let path = SpecPath.root.key("groups").index(index)
        var group = GroupSpec(name: "")
        var named = false
        defer {
            if group.strategy == .parallel { group.maxParallel = SeedFormat.groupLimit(cores: cores) }
            spec.groups.append(group)
        }
        guard let members = members(value, at: path) else { return false }
        for member in members {
            guard SeedFormat.groupKeys.contains(member.key) else {
                unknownKey(member.key, in: path, known: SeedFormat.groupKeys)
                continue
            }
            if member.value.isNull && member.key != "Group" { continue }
            let memberPath = path.key(member.key)
            switch member.key {
            case "Group":
                if let name = string(member.value, at: memberPath) {
                    group.name = name
                    named = true
                }
            case "Strategy":
                if let strategy = choice(
                    member.value, at: memberPath, among: GroupStrategy.allCases, caseInsensitive: true)
                {
                    group.strategy = strategy
                }
            default:
                group.mode = choice(member.value, at: memberPath, among: FailureMode.allCases, caseInsensitive: true)
            }
        }
        if !members.contains(where: { $0.key == "Group" }) { fail(path.key("Group"), "is required") }
        return named
    }

    private mutating func decodeSeedTask(_ value: SpecValue, index: Int) -> (TaskSpec, named: Bool) {
        var task = TaskSpec(name: "", command: .shell(":"), timeoutSeconds: SeedFormat.defaultTimeoutMinutes * 60)
        func path() -> SpecPath { SpecPath.root.key("tasks").index(index) }
        guard let members = members(value, at: path()) else { return (task, false) }
        var named = false
        for member in members {
            let value = member.value
            guard SeedFormat.taskKeys.contains(member.key) else {
                unknownKey(member.key, in: path(), known: SeedFormat.taskKeys)
                continue
            }
            if value.isNull && member.key != "Name" && member.key != "Command" { continue }
            switch member.key {
            case "Command":
                if let script = string(value, at: path().key("Command")) { task.command = .shell(script) }
            case "Name":
                if let name = string(value, at: path().key("Name")) {
                    task.name = name
                    named = true
                }
            case "Group":
                task.group = string(value, at: path().key("Group"))
            case "TimeoutInMinutes":
                if let minutes = number(value, at: path().key("TimeoutInMinutes")) {
                    task.timeoutSeconds = minutes * 60
                }
            default:
                if let script = string(value, at: path().key("RunCommandOnTimeout")) { task.onTimeout = .shell(script) }
            }
        }
        for required in ["Name", "Command"] where !members.contains(where: { $0.key == required }) {
            fail(path().key(required), "is required")
        }
        return (task, named)
    }
}
