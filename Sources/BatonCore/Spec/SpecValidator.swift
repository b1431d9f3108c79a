import Foundation

/// Checks a spec against every rule of SPEC §1 and returns all the problems found.
///
/// `SpecParser` runs it on every decoded document; it is public so that a spec built in
/// code (a retry, a test) can be held to the same rules.
public enum SpecValidator {
    /// The problems of `spec`, with paths in the native format's keys; empty when valid.
    public static func validate(_ spec: WorkflowSpec, maxTasks: Int = 100_000) -> [SpecError] {
        if spec.tasks.count > maxTasks {
            return [SpecError(path: "tasks", message: "too many tasks (\(spec.tasks.count); the limit is \(maxTasks))")]
        }
        return validate(DecodedSpec(spec: spec))
    }

    static func validate(_ decoded: DecodedSpec) -> [SpecError] {
        let checker = SpecChecker(decoded)
        checker.checkRun()
        checker.checkGroups()
        checker.checkTasks()
        checker.checkNotify()
        checker.checkGraph()
        return checker.errors
    }
}

/// Messages shared by the decoder and the validator.
enum SpecMessages {
    static let notNegative = "must not be negative"
    static let positive = "must be greater than 0"
    static let atLeastOne = "must be at least 1"
    static let finite = "must be a finite number"
    static let exitCodeRange = "must be an exit code between 0 and 255"
    static let empty = "must not be empty"
    static let tooLong = "must be at most \(SpecChecker.maxNameLength) characters"
    static let control = "must not contain control characters"
    static let nul = "must not contain a NUL character"
    static let emptyProgram = "the program name must not be empty"
}

/// The state of one validation: the spec, the paths' vocabulary and the errors so far.
///
/// A class, so that checks can pass paths as autoclosures reading it while they record
/// errors (a mutating struct method could not).
final class SpecChecker {
    static let maxNameLength = 200

    let spec: WorkflowSpec
    let decoded: DecodedSpec
    var keys: SpecKeyNames { decoded.keys }
    private(set) var errors: [SpecError] = []

    init(_ decoded: DecodedSpec) {
        self.decoded = decoded
        self.spec = decoded.spec
    }

    /// Records a problem. Under `tasks[i]` the message also names the task (`task "a":
    /// …`), so a reader of a long spec need not count to find it — except for problems
    /// of the name itself.
    func fail(_ path: SpecPath, _ message: String) {
        let text = path.description
        errors.append(SpecError(path: text, message: taskName(at: text).map { "task \($0): " + message } ?? message))
    }

    /// The quoted name of the task `path` is under, nil when it is not, or when the path
    /// is the name itself (whose problem the message states).
    private func taskName(at path: String) -> String? {
        let prefix = keys.tasks + "["
        guard path.hasPrefix(prefix), let close = path.firstIndex(of: "]"),
            let index = Int(path[path.index(path.startIndex, offsetBy: prefix.count)..<close]),
            spec.tasks.indices.contains(index)
        else { return nil }
        let rest = path[path.index(after: close)...]
        let name = spec.tasks[index].name
        guard !name.isEmpty, rest != "." + keys.taskName, Self.labelProblem(name) == nil else { return nil }
        return SpecValue.jsonQuoted(name)
    }

    func taskPath(_ index: Int) -> SpecPath { SpecPath.root.key(keys.tasks).index(index) }
    func groupPath(_ index: Int) -> SpecPath { SpecPath.root.key(keys.groups).index(index) }

    func checkRun() {
        if let problem = Self.labelProblem(spec.name) { fail(.root.key("name"), problem) }
        if spec.mode == .runalways { fail(.root.key(keys.mode), "runalways is only valid for a group") }
        if let limit = spec.maxParallel, limit < 1 { fail(.root.key("max_parallel"), SpecMessages.atLeastOne) }
        if let seconds = spec.timeoutSeconds {
            checkNumber(seconds, positive: true, at: .root.key("timeout_seconds"))
        }
        checkNumber(spec.killGraceSeconds, positive: false, at: .root.key("kill_grace_seconds"))
        checkEnv(spec.env, at: .root.key("env"))
        if decoded.hasTaskList && spec.tasks.isEmpty {
            fail(.root.key(keys.tasks), "must contain at least one task")
        }
    }

    func checkGroups() {
        for (index, group) in spec.groups.enumerated() {
            if !decoded.unnamedGroups.contains(index), let problem = Self.labelProblem(group.name) {
                fail(groupPath(index).key(keys.groupName), problem)
            }
            if let limit = group.maxParallel {
                if group.strategy == .sequential {
                    fail(groupPath(index).key("max_parallel"), "only valid for a parallel group")
                } else if limit < 1 {
                    fail(groupPath(index).key("max_parallel"), SpecMessages.atLeastOne)
                }
            }
        }
    }

    func checkNotify() {
        for (index, notify) in spec.notify.enumerated() {
            let path = SpecPath.root.key("notify").index(index)
            if !Self.isWebURL(notify.url) { fail(path.key("url"), "must be an http or https URL") }
            if notify.on.isEmpty { fail(path.key("on"), "must list at least one status") }
            for (position, status) in notify.on.enumerated() where !status.isTerminal {
                let names = SpecDecoder.finalRunStatuses.map(\.rawValue).joined(separator: ", ")
                fail(path.key("on").index(position), "must be one of \(names) (got \"\(status.rawValue)\")")
            }
            if let secret = notify.secret, secret.isEmpty { fail(path.key("secret"), SpecMessages.empty) }
        }
    }

    /// Numbers must be finite, and at least 0 (or above 0 when `positive`).
    func checkNumber(_ value: Double, positive: Bool, at path: @autoclosure () -> SpecPath) {
        if !value.isFinite {
            fail(path(), SpecMessages.finite)
        } else if positive && value <= 0 {
            fail(path(), SpecMessages.positive)
        } else if value < 0 {
            fail(path(), SpecMessages.notNegative)
        }
    }

    func checkEnv(_ env: [String: String], at path: @autoclosure () -> SpecPath) {
        for (name, value) in env {
            if name.isEmpty {
                fail(path().key(name), "variable name must not be empty")
            } else if name.utf8.contains(UInt8(ascii: "=")) || name.utf8.contains(0) {
                fail(path().key(name), "variable name must not contain \"=\" or NUL")
            }
            if value.utf8.contains(0) { fail(path().key(name), SpecMessages.nul) }
        }
    }

    /// Why `name` is not 1–200 printable characters, or nil when it is.
    static func labelProblem(_ name: String) -> String? {
        let utf8 = name.utf8
        if utf8.isEmpty { return SpecMessages.empty }
        var isASCII = true
        for byte in utf8 {
            if byte < 0x20 || byte == 0x7F { return SpecMessages.control }
            if byte >= 0x80 { isASCII = false }
        }
        if isASCII { return utf8.count <= maxNameLength ? nil : SpecMessages.tooLong }
        for scalar in name.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .surrogate: return SpecMessages.control
            default: continue
            }
        }
        return name.count <= maxNameLength ? nil : SpecMessages.tooLong
    }

    static func isWebURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
