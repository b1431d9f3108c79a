/// A parsed spec document before it is given meaning: the common tree that both the JSON
/// and the YAML readers produce, so that one decoder can report unknown keys and wrong
/// types with their paths whatever the input format.
///
/// Booleans, integers and other numbers stay distinct (`true` is not `1`, `1` is not
/// `1.5`), and maps keep their members in document order so errors come out in that order.
enum SpecValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([SpecValue])
    case object([SpecMember])

    /// The kind of value, as error messages name it ("expected a string, got a list").
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a map"
        }
    }

    /// The members of a map, or nil for any other kind.
    var members: [SpecMember]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value of the member `key` of a map (first match), or nil.
    subscript(key: String) -> SpecValue? {
        members?.first { $0.key == key }?.value
    }
}

/// One `key: value` member of a map.
struct SpecMember: Sendable, Equatable {
    var key: String
    var value: SpecValue

    init(_ key: String, _ value: SpecValue) {
        self.key = key
        self.value = value
    }
}
