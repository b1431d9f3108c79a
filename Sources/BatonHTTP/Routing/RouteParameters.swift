/// The values a request's path gave a route template's `{name}` parameters, percent-decoded.
public struct RouteParameters: Sendable, Equatable {
    /// Every parameter by name.
    public let values: [String: String]

    /// Creates parameters (tests of handlers build them directly).
    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The value of parameter `name`, or nil when the template has no such parameter.
    public subscript(name: String) -> String? {
        values[name]
    }
}
