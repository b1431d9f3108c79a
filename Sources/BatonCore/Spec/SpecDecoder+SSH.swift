/// Decoding of remote targets: `ssh_hosts:` (named targets, defined once per spec) and a
/// task's `ssh:` (a name from `ssh_hosts`, or a target written in place).
extension SpecDecoder {
    static let sshKeys = ["host", "port", "user", "identity_file", "known_hosts"]

    /// `ssh_hosts: {NAME: TARGET, …}`: the valid targets, and every name declared (a task
    /// naming a broken entry gets no second error).
    mutating func decodeSSHHosts(_ value: SpecValue, at path: SpecPath) -> (
        hosts: [String: SSHTarget], declared: Set<String>
    ) {
        guard let members = members(value, at: path) else { return ([:], []) }
        var hosts: [String: SSHTarget] = [:]
        for member in members {
            if let target = decodeSSHTarget(member.value, at: path.key(member.key)) { hosts[member.key] = target }
        }
        return (hosts, Set(members.map(\.key)))
    }

    /// A task's `ssh:`: a target, or the name of one (resolved once `ssh_hosts` is known).
    mutating func decodeTaskSSH(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> TaskSSH? {
        if case .string(let name) = value { return .named(name) }
        guard case .object = value else {
            fail(
                path(),
                "expected a map (host, port, user, identity_file, known_hosts) or the name of an ssh_hosts entry, "
                    + "got \(value.kindDescription)")
            return nil
        }
        return decodeSSHTarget(value, at: path()).map(TaskSSH.target)
    }

    /// `{host, port?, user?, identity_file?, known_hosts?}`, each checked here: a value that
    /// ssh would read as an option, or that holds spaces, is refused.
    mutating func decodeSSHTarget(_ value: SpecValue, at path: SpecPath) -> SSHTarget? {
        guard let members = members(value, at: path) else { return nil }
        var target = SSHTarget(host: "")
        var valid = true
        for member in members {
            let key = member.key
            guard Self.sshKeys.contains(key) else {
                unknownKey(key, in: path, known: Self.sshKeys)
                valid = false
                continue
            }
            if member.value.isNull && key != "host" { continue }
            if key == "port" {
                guard let port = int(member.value, at: path.key(key)) else {
                    valid = false
                    continue
                }
                guard (1...65535).contains(port) else {
                    fail(path.key(key), "must be from 1 to 65535 (got \(port))")
                    valid = false
                    continue
                }
                target.port = port
                continue
            }
            guard let text = string(member.value, at: path.key(key)) else {
                valid = false
                continue
            }
            if let problem = Self.sshWordProblem(text, key: key) {
                fail(path.key(key), problem)
                valid = false
                continue
            }
            switch key {
            case "host": target.host = text
            case "user": target.user = text
            case "identity_file": target.identityFile = text
            default: target.knownHosts = text
            }
        }
        if !members.contains(where: { $0.key == "host" }) {
            fail(path.key("host"), "is required")
            valid = false
        }
        return valid ? target : nil
    }

    /// Why `text` cannot be passed to ssh as this field, or nil.
    static func sshWordProblem(_ text: String, key: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.hasPrefix("-") { return "must not start with \"-\" (ssh would read it as an option)" }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain spaces or control characters"
        }
        if key == "user" && text.contains("@") { return "must not contain \"@\"" }
        return nil
    }
}

/// A task's `ssh:` as written, before names are resolved against `ssh_hosts`.
enum TaskSSH {
    case named(String)
    case target(SSHTarget)
}
