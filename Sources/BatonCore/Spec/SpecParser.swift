import Foundation

/// The syntax a spec document is written in.
public enum SpecFormat: Sendable {
    case json
    case yaml
    /// JSON when the first non-blank character is `{`, YAML otherwise.
    case auto
}

/// Reads and validates workflow specs (SPEC §1): the native format in JSON or YAML, and
/// the original scheduler's YAML format.
public enum SpecParser {
    /// Parses `data` and checks it against every rule of SPEC §1.
    ///
    /// - Parameters:
    ///   - format: the syntax; `.auto` sniffs the first non-blank byte.
    ///   - cores: the machine's cores, for the original format's parallel-group limit of
    ///     max(1, cores ÷ 2).
    ///   - maxTasks: more tasks than this are refused before any is decoded.
    /// - Returns: the spec with every default applied.
    /// - Throws: `SpecErrors` with every problem found, each with its path. A document
    ///   that cannot be read at all (bad UTF-8, a syntax error) gives one error with path
    ///   `""` and the line and column where reading stopped.
    public static func parse(
        _ data: Data, format: SpecFormat = .auto, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
        maxTasks: Int = 100_000
    ) throws(SpecErrors) -> WorkflowSpec {
        let document: SpecValue
        do {
            document = try read(data, format: format)
        } catch {
            throw SpecErrors([error])
        }
        guard let root = document.members else {
            throw SpecErrors([
                SpecError(path: "", message: "expected a map at the top level, got \(document.kindDescription)")
            ])
        }
        if SeedFormat.matches(root) {
            var decoder = SpecDecoder()
            let decoded = decoder.decodeSeed(root, cores: cores, maxTasks: maxTasks)
            var errors = decoder.errors
            if !decoded.abandoned { errors += SpecValidator.validate(decoded) }
            guard errors.isEmpty else { throw SpecErrors(errors) }
            return decoded.spec
        }
        return try parseNative(root, maxTasks: maxTasks)
    }

    /// A native spec given as its top-level members (also a task's nested workflow, whose
    /// errors the caller puts under the task's path).
    static func parseNative(_ root: [SpecMember], maxTasks: Int) throws(SpecErrors) -> WorkflowSpec {
        var decoder = SpecDecoder()
        decoder.maxTasks = maxTasks
        let decoded = decoder.decodeNative(root, maxTasks: maxTasks)
        var errors = decoder.errors
        if !decoded.abandoned {
            errors += SpecValidator.validate(decoded)
        }
        guard errors.isEmpty else { throw SpecErrors(errors) }
        return decoded.spec
    }

    static func read(_ data: Data, format: SpecFormat) throws(SpecError) -> SpecValue {
        switch format {
        case .json: return try SpecValue.parseJSON(data)
        case .yaml: return try SpecValue.parseYAML(data)
        case .auto: return looksLikeJSON(data) ? try SpecValue.parseJSON(data) : try SpecValue.parseYAML(data)
        }
    }

    /// Whether the first byte that is not blank (after a byte order mark) is `{`.
    static func looksLikeJSON(_ data: Data) -> Bool {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let body = data.starts(with: bom) ? data.dropFirst(bom.count) : data[...]
        let first = body.first { byte in
            byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\n")
                && byte != UInt8(ascii: "\r")
        }
        return first == UInt8(ascii: "{")
    }
}
