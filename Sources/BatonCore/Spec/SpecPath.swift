/// The location of a value inside a spec document, rendered like `tasks[3].env.HOME`.
///
/// Paths are built only when a problem is reported (callers pass them as autoclosures), so
/// validating a large, correct spec builds none.
struct SpecPath: Sendable, Equatable, CustomStringConvertible {
    private(set) var description: String

    /// The whole document.
    static let root = SpecPath(description: "")

    /// The member `key` of this map; keys that are not plain identifiers are quoted.
    func key(_ key: String) -> SpecPath {
        if !Self.isPlain(key) {
            return SpecPath(description: description + "[" + SpecValue.jsonQuoted(key) + "]")
        }
        return SpecPath(description: description.isEmpty ? key : description + "." + key)
    }

    /// The element `index` of this list.
    func index(_ index: Int) -> SpecPath {
        SpecPath(description: "\(description)[\(index)]")
    }

    private static func isPlain(_ key: String) -> Bool {
        !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x2D
            }
    }
}
