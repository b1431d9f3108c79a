import Foundation
import Yams

extension SpecValue {
    /// Parses a single YAML document into a value tree.
    ///
    /// Yams composes the node tree with its basic resolver (no regular expressions run per
    /// scalar, which matters for 100,000 tasks); plain scalars are then typed here by
    /// `resolvePlainYAML`. Aliases are expanded, with a budget against "billion laughs"
    /// documents, and `<<` merge keys are applied.
    static func parseYAML(_ data: Data) throws(SpecError) -> SpecValue {
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(path: "", message: invalidUTF8Message(data))
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .basic, .default, .utf8)
        } catch let error as YamlError {
            throw SpecError(path: "", message: describe(error))
        } catch {
            throw SpecError(path: "", message: "invalid YAML: \(error)")
        }
        guard let root else {
            throw SpecError(path: "", message: "the spec is empty")
        }
        var converter = YAMLConverter(budget: 4 * data.count + 10_000)
        return try converter.convert(root)
    }

    /// Names the first byte that is not UTF-8.
    static func invalidUTF8Message(_ data: Data) -> String {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                return "the spec is not valid UTF-8"
            case .error:
                return "the spec is not valid UTF-8 (at byte \(offset))"
            }
        }
    }

    private static func describe(_ error: YamlError) -> String {
        func at(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem == "but found another document" {
                return "invalid YAML at \(at(mark)): expected a single document, found another"
            }
            let detail = context.map { " (\($0.text) at \(at($0.mark)))" } ?? ""
            return "invalid YAML at \(at(mark)): \(problem)\(detail)"
        case .reader(let problem, _, _, _):
            return "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { jsonQuoted($0) }.joined(separator: ", ")
            return "invalid YAML at \(at(context.mark)): duplicate key \(keys)"
        default:
            return "invalid YAML: \(error)"
        }
    }
}

/// Converts a Yams node tree into `SpecValue`s.
private struct YAMLConverter {
    /// Values left to produce; aliases can make a small document expand exponentially.
    var budget: Int

    mutating func convert(_ node: Node) throws(SpecError) -> SpecValue {
        budget -= 1
        if budget < 0 {
            throw SpecError(path: "", message: "invalid YAML: aliases expand to too many values")
        }
        switch node {
        case .scalar(let scalar):
            return try convert(scalar)
        case .sequence(let sequence):
            var elements: [SpecValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence {
                elements.append(try convert(element))
            }
            return .array(elements)
        case .mapping(let mapping):
            return try convert(mapping)
        case .alias(let alias):
            // `compose` resolves aliases itself; this only happens for hand-built trees.
            throw SpecError(path: "", message: "invalid YAML: unresolved alias \(alias)")
        }
    }

    private mutating func convert(_ mapping: Node.Mapping) throws(SpecError) -> SpecValue {
        var members: [SpecMember] = []
        members.reserveCapacity(mapping.count)
        var merged: [SpecMember] = []
        for (key, value) in mapping {
            guard case .scalar(let keyScalar) = key else {
                throw SpecError(path: "", message: "invalid YAML\(Self.at(key.mark)): keys must be strings")
            }
            if keyScalar.string == "<<", keyScalar.style == .plain {
                merged += try mergeSources(value)
            } else {
                members.append(SpecMember(keyScalar.string, try convert(value)))
            }
        }
        // YAML merge keys: explicit keys win, then earlier merged maps win over later ones.
        if !merged.isEmpty {
            var seen = Set(members.map(\.key))
            for member in merged where seen.insert(member.key).inserted {
                members.append(member)
            }
        }
        return .object(members)
    }

    private mutating func mergeSources(_ node: Node) throws(SpecError) -> [SpecMember] {
        switch node {
        case .mapping:
            if case .object(let members) = try convert(node) { return members }
        case .sequence(let sequence) where sequence.allSatisfy({ $0.mapping != nil }):
            var members: [SpecMember] = []
            for element in sequence {
                if case .object(let more) = try convert(element) { members += more }
            }
            return members
        default:
            break
        }
        throw SpecError(path: "", message: "invalid YAML\(Self.at(node.mark)): '<<' must merge a map or a list of maps")
    }

    private func convert(_ scalar: Node.Scalar) throws(SpecError) -> SpecValue {
        let text = scalar.string
        switch scalar.tag.rawValue {
        case Tag.Name.implicit.rawValue:
            return scalar.style == .plain ? SpecValue.resolvePlainYAML(text) : .string(text)
        case Tag.Name.str.rawValue, Tag.Name.nonSpecific.rawValue:
            return .string(text)
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue, Tag.Name.int.rawValue, Tag.Name.float.rawValue:
            // An explicit tag (`!!int 5`) must agree with the text.
            let value = SpecValue.resolvePlainYAML(text)
            switch (scalar.tag.rawValue, value) {
            case (Tag.Name.bool.rawValue, .bool), (Tag.Name.int.rawValue, .int),
                (Tag.Name.float.rawValue, .double):
                return value
            case (Tag.Name.float.rawValue, .int(let whole)):
                return .double(Double(whole))
            default:
                throw SpecError(
                    path: "",
                    message:
                        "invalid YAML\(Self.at(scalar.mark)): \(SpecValue.jsonQuoted(text)) does not match its tag \(scalar.tag.rawValue)"
                )
            }
        default:
            throw SpecError(
                path: "", message: "invalid YAML\(Self.at(scalar.mark)): unsupported tag \(scalar.tag.rawValue)")
        }
    }

    private static func at(_ mark: Mark?) -> String {
        mark.map { " at line \($0.line), column \($0.column)" } ?? ""
    }
}
