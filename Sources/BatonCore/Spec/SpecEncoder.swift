import Foundation

/// Writes specs as canonical native JSON, the form runs are stored in.
public enum SpecEncoder {
    /// Compact JSON with sorted keys and every field explicit, defaults and `null`s
    /// included, so that the bytes depend only on the spec and
    /// `SpecParser.parse(SpecEncoder.encode(spec)) == spec` for every valid spec (a spec in
    /// the original YAML format comes back native, its group limits explicit).
    public static func encode(_ spec: WorkflowSpec) -> Data {
        value(of: spec).jsonData()
    }

    // Members are listed in key order, which the writer then need not sort.
    static func value(of spec: WorkflowSpec) -> SpecValue {
        var members = [
            SpecMember("env", value(of: spec.env)),
            SpecMember("groups", .array(spec.groups.map(value(of:)))),
            SpecMember("kill_grace_seconds", .double(spec.killGraceSeconds)),
            SpecMember("max_parallel", spec.maxParallel.map(SpecValue.int) ?? .null),
            SpecMember("mode", .string(spec.mode.rawValue)),
            SpecMember("name", .string(spec.name)),
            SpecMember("notify", .array(spec.notify.map(value(of:)))),
            SpecMember("tasks", .array(spec.tasks.map(value(of:)))),
            SpecMember("timeout_seconds", spec.timeoutSeconds.map(SpecValue.double) ?? .null),
        ]
        // Only when set, as `ssh`: stored specs without labels keep their bytes.
        if !spec.runsOn.isEmpty {
            members.insert(SpecMember("runs_on", value(of: spec.runsOn)), at: members.count - 2)
        }
        return .object(members)
    }

    private static func value(of group: GroupSpec) -> SpecValue {
        .object([
            SpecMember("max_parallel", group.maxParallel.map(SpecValue.int) ?? .null),
            SpecMember("mode", group.mode.map { .string($0.rawValue) } ?? .null),
            SpecMember("name", .string(group.name)),
            SpecMember("strategy", .string(group.strategy.rawValue)),
        ])
    }

    private static func value(of task: TaskSpec) -> SpecValue {
        var members = [
            SpecMember("command", value(of: task.command)),
            SpecMember("critical", .bool(task.critical)),
            SpecMember("cwd", task.cwd.map(SpecValue.string) ?? .null),
            SpecMember("depends_on", .array(task.dependsOn.map(SpecValue.string))),
            SpecMember("env", value(of: task.env)),
            SpecMember("forever", .bool(task.forever)),
            SpecMember("group", task.group.map(SpecValue.string) ?? .null),
            SpecMember("name", .string(task.name)),
            SpecMember("on_timeout", task.onTimeout.map(value(of:)) ?? .null),
            SpecMember("restartable", .bool(task.restartable)),
            SpecMember("retries", .int(task.retries)),
            SpecMember("retry_backoff", .string(task.retryBackoff.rawValue)),
            SpecMember("retry_delay_seconds", .double(task.retryDelaySeconds)),
            SpecMember("retry_exit_codes", .array(task.retryExitCodes.map { .int(Int($0)) })),
            SpecMember("retry_max_delay_seconds", .double(task.retryMaxDelaySeconds)),
            SpecMember("timeout_seconds", .double(task.timeoutSeconds)),
            SpecMember("trigger", .string(task.trigger.rawValue)),
        ]
        // Only when set: the stored bytes of a spec without remote tasks stay as they were
        // before `ssh` existed (key order: "ssh" sorts after "retry_…", before "timeout…").
        if let ssh = task.ssh {
            members.insert(SpecMember("ssh", value(of: ssh)), at: members.count - 2)
        }
        if !task.runsOn.isEmpty {
            // "runs_on" sorts after "retry_…", before "ssh" and "timeout…".
            let position = members.firstIndex { $0.key > "runs_on" } ?? members.count
            members.insert(SpecMember("runs_on", value(of: task.runsOn)), at: position)
        }
        if let sub = task.subWorkflow {
            // No command; the nested workflow's own members (and the stored workflow it came
            // from), kept in key order.
            members.removeAll { $0.key == "command" }
            if let name = sub.name { members.append(SpecMember("workflow", .string(name))) }
            if let spec = sub.spec {
                members.append(SpecMember("groups", .array(spec.groups.map(value(of:)))))
                members.append(SpecMember("max_parallel", spec.maxParallel.map(SpecValue.int) ?? .null))
                members.append(SpecMember("mode", .string(spec.mode.rawValue)))
                members.append(SpecMember("tasks", .array(spec.tasks.map(value(of:)))))
            }
            members.sort { $0.key < $1.key }
        }
        return .object(members)
    }

    private static func value(of target: SSHTarget) -> SpecValue {
        var members = [SpecMember("host", .string(target.host))]
        if let file = target.identityFile { members.append(SpecMember("identity_file", .string(file))) }
        if let file = target.knownHosts { members.append(SpecMember("known_hosts", .string(file))) }
        if let port = target.port { members.append(SpecMember("port", .int(port))) }
        if let user = target.user { members.append(SpecMember("user", .string(user))) }
        return .object(members)
    }

    private static func value(of notify: NotifySpec) -> SpecValue {
        .object([
            SpecMember("on", .array(notify.on.map { .string($0.rawValue) })),
            SpecMember("secret", notify.secret.map(SpecValue.string) ?? .null),
            SpecMember("url", .string(notify.url)),
        ])
    }

    private static func value(of command: CommandLine) -> SpecValue {
        switch command {
        case .shell(let script): return .string(script)
        case .argv(let words): return .array(words.map(SpecValue.string))
        }
    }

    private static func value(of env: [String: String]) -> SpecValue {
        .object(env.map { SpecMember($0.key, .string($0.value)) })
    }
}
