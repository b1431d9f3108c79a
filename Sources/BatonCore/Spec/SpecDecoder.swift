/// Gives a `SpecValue` tree its meaning, recording one `SpecError` per problem instead of
/// stopping at the first.
///
/// The typed accessors return nil after recording a wrong type; their `path` arguments are
/// autoclosures so that a correct spec builds no path strings at all.
struct SpecDecoder {
    private(set) var errors: [SpecError] = []
    /// Tasks whose `ssh:` names an `ssh_hosts` entry, resolved once the whole spec is read.
    var sshReferences: [(task: Int, name: String)] = []
    /// The task limit, which also bounds a nested workflow.
    var maxTasks = 100_000

    /// Records an error found by a nested decode, its path already complete.
    mutating func fail(_ error: SpecError) {
        errors.append(error)
    }

    mutating func fail(_ path: SpecPath, _ message: String) {
        errors.append(SpecError(path: path.description, message: message))
    }

    private mutating func mismatch(_ expected: String, _ value: SpecValue, _ path: SpecPath) {
        fail(path, "expected \(expected), got \(value.kindDescription)")
    }

    /// Reports `key` as unknown, suggesting the known key it most likely misspells.
    mutating func unknownKey(_ key: String, in parent: SpecPath, known: [String]) {
        let hint = SpecKeySuggestion.closest(to: key, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        fail(parent.key(key), "unknown key\(hint)")
    }

    mutating func members(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [SpecMember]? {
        if case .object(let members) = value { return members }
        mismatch("a map", value, path())
        return nil
    }

    mutating func list(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [SpecValue]? {
        if case .array(let elements) = value { return elements }
        mismatch("a list", value, path())
        return nil
    }

    mutating func string(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> String? {
        if case .string(let text) = value { return text }
        mismatch("a string", value, path())
        return nil
    }

    mutating func bool(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> Bool? {
        if case .bool(let flag) = value { return flag }
        mismatch("a boolean", value, path())
        return nil
    }

    /// An integer; a whole number written as `2.0` is accepted too.
    mutating func int(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> Int? {
        switch value {
        case .int(let number):
            return number
        case .double(let number):
            if number == number.rounded(), let whole = Int(exactly: number) { return whole }
            fail(path(), "expected an integer, got \(number)")
            return nil
        default:
            mismatch("an integer", value, path())
            return nil
        }
    }

    /// Any number; ranges are the validator's business.
    mutating func number(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> Double? {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default:
            mismatch("a number", value, path())
            return nil
        }
    }

    /// One of `allowed`, by raw value (`caseInsensitive` for the original YAML format).
    mutating func choice<Choice: RawRepresentable>(
        _ value: SpecValue, at path: @autoclosure () -> SpecPath, among allowed: [Choice],
        caseInsensitive: Bool = false
    ) -> Choice? where Choice.RawValue == String {
        guard let text = string(value, at: path()) else { return nil }
        let wanted = caseInsensitive ? text.lowercased() : text
        if let match = allowed.first(where: { $0.rawValue == wanted }) { return match }
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        fail(path(), "must be one of \(names) (got \(SpecValue.jsonQuoted(text)))")
        return nil
    }

    /// A list of strings; nil (with every bad element reported) if any element is not one,
    /// so that indices in later messages always match the document.
    mutating func stringList(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [String]? {
        guard let elements = list(value, at: path()) else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        var valid = true
        for (index, element) in elements.enumerated() {
            if case .string(let text) = element {
                strings.append(text)
            } else {
                mismatch("a string", element, path().index(index))
                valid = false
            }
        }
        return valid ? strings : nil
    }

    /// A map of strings to strings (`env`).
    mutating func stringMap(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [String: String]? {
        guard let members = members(value, at: path()) else { return nil }
        var map: [String: String] = [:]
        map.reserveCapacity(members.count)
        var valid = true
        for member in members {
            if case .string(let text) = member.value {
                map[member.key] = text
            } else {
                mismatch("a string", member.value, path().key(member.key))
                valid = false
            }
        }
        return valid ? map : nil
    }

    /// Node labels (`runs_on`): names that `--labels name=value` can give (not empty, no
    /// `=` or `,`), each to a string. `true` and numbers are taken as their text: YAML reads
    /// `gpu: true` as a boolean, and a label means the same either way.
    mutating func labelMap(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> [String: String]? {
        guard let members = members(value, at: path()) else { return nil }
        var map: [String: String] = [:]
        var valid = true
        for member in members {
            if member.key.isEmpty || member.key.contains("=") || member.key.contains(",") {
                fail(path().key(member.key), "is not a label name (not empty, no '=' or ',')")
                valid = false
                continue
            }
            switch member.value {
            case .string(let text): map[member.key] = text
            case .bool(let flag): map[member.key] = flag ? "true" : "false"
            case .int(let number): map[member.key] = String(number)
            default:
                mismatch("a string", member.value, path().key(member.key))
                valid = false
            }
        }
        return valid ? map : nil
    }

    /// A string (run by `/bin/sh -c`) or a list of strings (an argv).
    mutating func command(_ value: SpecValue, at path: @autoclosure () -> SpecPath) -> CommandLine? {
        switch value {
        case .string(let script):
            return .shell(script)
        case .array:
            return stringList(value, at: path()).map(CommandLine.argv)
        default:
            mismatch("a string or a list of strings", value, path())
            return nil
        }
    }
}

extension SpecValue {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
