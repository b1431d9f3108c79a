/// Decoding of the native format (SPEC §1): snake_case keys, every one optional but `tasks`.
extension SpecDecoder {
    static let runKeys = [
        "name", "mode", "max_parallel", "timeout_seconds", "kill_grace_seconds", "env", "groups", "tasks",
        "notify", "ssh_hosts", "runs_on",
    ]
    static let groupKeys = ["name", "strategy", "mode", "max_parallel"]
    static let notifyKeys = ["url", "on", "secret"]
    /// Statuses a run can end with: the only ones a notification can be sent for.
    static let finalRunStatuses: [RunStatus] = RunStatus.allCases.filter(\.isTerminal)

    mutating func decodeNative(_ root: [SpecMember], maxTasks: Int) -> DecodedSpec {
        var decoded = DecodedSpec(spec: WorkflowSpec(tasks: []))
        var tasks: SpecValue?
        var sshHosts: (hosts: [String: SSHTarget], declared: Set<String>) = ([:], [])
        for member in root {
            let value = member.value
            let path = SpecPath.root.key(member.key)
            guard Self.runKeys.contains(member.key) else {
                unknownKey(member.key, in: .root, known: Self.runKeys)
                continue
            }
            // `key: null` (in YAML, a key with nothing after it) means "not given".
            if value.isNull && member.key != "tasks" { continue }
            switch member.key {
            case "name":
                if let name = string(value, at: path) { decoded.spec.name = name }
            case "mode":
                if let mode = choice(value, at: path, among: FailureMode.allCases) { decoded.spec.mode = mode }
            case "max_parallel":
                decoded.spec.maxParallel = int(value, at: path)
            case "timeout_seconds":
                decoded.spec.timeoutSeconds = number(value, at: path)
            case "kill_grace_seconds":
                if let seconds = number(value, at: path) { decoded.spec.killGraceSeconds = seconds }
            case "env":
                if let env = stringMap(value, at: path) { decoded.spec.env = env }
            case "groups":
                if let groups = list(value, at: path) { decodeGroups(groups, into: &decoded) }
            case "notify":
                if let notify = list(value, at: path) { decoded.spec.notify = decodeNotify(notify) }
            case "ssh_hosts":
                sshHosts = decodeSSHHosts(value, at: path)
            case "runs_on":
                if let labels = labelMap(value, at: path) { decoded.spec.runsOn = labels }
            default:
                tasks = value
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
        decoded.spec.tasks.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let (task, named) = decodeTask(element, index: index)
            decoded.spec.tasks.append(task)
            if !named { decoded.unnamedTasks.insert(index) }
        }
        resolveSSHReferences(sshHosts, into: &decoded)
        return decoded
    }

    /// Gives each task that named an `ssh_hosts` entry its target (a spec is stored with
    /// its targets in place, so a run keeps the hosts it was submitted with).
    private mutating func resolveSSHReferences(
        _ hosts: (hosts: [String: SSHTarget], declared: Set<String>), into decoded: inout DecodedSpec
    ) {
        for (index, name) in sshReferences {
            if let target = hosts.hosts[name] {
                decoded.spec.tasks[index].ssh = target
            } else if !hosts.declared.contains(name) {
                let known = hosts.declared.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                fail(
                    SpecPath.root.key("tasks").index(index).key("ssh"),
                    "unknown ssh host \"\(name)\" (ssh_hosts defines \(known.isEmpty ? "none" : known))")
            }
        }
        sshReferences.removeAll()
    }

    /// Refuses more than `limit` tasks before any of them is decoded.
    mutating func checkTaskCount(_ count: Int, limit: Int) -> Bool {
        guard count > limit else { return true }
        fail(SpecPath.root.key("tasks"), "too many tasks (\(count); the limit is \(limit))")
        return false
    }

    private mutating func decodeGroups(_ elements: [SpecValue], into decoded: inout DecodedSpec) {
        for (index, element) in elements.enumerated() {
            let path = SpecPath.root.key("groups").index(index)
            var group = GroupSpec(name: "")
            var named = false
            defer {
                decoded.spec.groups.append(group)
                if !named { decoded.unnamedGroups.insert(index) }
            }
            guard let members = members(element, at: path) else { continue }
            for member in members {
                let value = member.value
                guard Self.groupKeys.contains(member.key) else {
                    unknownKey(member.key, in: path, known: Self.groupKeys)
                    continue
                }
                if value.isNull && member.key != "name" { continue }
                switch member.key {
                case "name":
                    if let name = string(value, at: path.key("name")) {
                        group.name = name
                        named = true
                    }
                case "strategy":
                    if let strategy = choice(value, at: path.key("strategy"), among: GroupStrategy.allCases) {
                        group.strategy = strategy
                    }
                case "mode":
                    group.mode = choice(value, at: path.key("mode"), among: FailureMode.allCases)
                default:
                    group.maxParallel = int(value, at: path.key("max_parallel"))
                }
            }
            if !members.contains(where: { $0.key == "name" }) {
                fail(path.key("name"), "is required")
            }
        }
    }

    private mutating func decodeNotify(_ elements: [SpecValue]) -> [NotifySpec] {
        var result: [NotifySpec] = []
        for (index, element) in elements.enumerated() {
            let path = SpecPath.root.key("notify").index(index)
            var notify = NotifySpec(url: "http://placeholder.invalid")
            defer { result.append(notify) }
            guard let members = members(element, at: path) else { continue }
            var hasURL = false
            for member in members {
                let value = member.value
                guard Self.notifyKeys.contains(member.key) else {
                    unknownKey(member.key, in: path, known: Self.notifyKeys)
                    continue
                }
                if value.isNull && member.key != "url" { continue }
                switch member.key {
                case "url":
                    hasURL = true
                    if let url = string(value, at: path.key("url")) { notify.url = url }
                case "on":
                    if let statuses = decodeStatuses(value, at: path.key("on")) { notify.on = statuses }
                default:
                    notify.secret = string(value, at: path.key("secret"))
                }
            }
            if !hasURL { fail(path.key("url"), "is required") }
        }
        return result
    }

    private mutating func decodeStatuses(_ value: SpecValue, at path: SpecPath) -> [RunStatus]? {
        guard let elements = list(value, at: path) else { return nil }
        var statuses: [RunStatus] = []
        for (index, element) in elements.enumerated() {
            if let status = choice(element, at: path.index(index), among: Self.finalRunStatuses) {
                statuses.append(status)
            }
        }
        return statuses.count == elements.count ? statuses : nil
    }
}
