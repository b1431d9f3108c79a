/// A parsed route template such as `/v1/runs/{id}/tasks/{task}/log`.
///
/// Each segment is either literal text or a `{name}` parameter that matches one whole,
/// non-empty, percent-decoded path segment (so `a%2Fb` matches a parameter as `a/b`).
struct RouteTemplate: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The template as written.
    let text: String
    let segments: [Segment]

    /// Parses `text`; a malformed template is a programming error and traps.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "route template must start with '/': \(text)")
        self.text = text
        var segments: [Segment] = []
        var names: Set<String> = []
        if text != "/" {
            for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                if raw.hasPrefix("{") && raw.hasSuffix("}") && raw.count > 2 {
                    let name = String(raw.dropFirst().dropLast())
                    precondition(
                        !name.contains("{") && !name.contains("}"),
                        "malformed parameter in route template \(text)")
                    precondition(
                        names.insert(name).inserted, "parameter {\(name)} repeated in \(text)")
                    segments.append(.parameter(name))
                } else {
                    precondition(
                        !raw.contains("{") && !raw.contains("}"),
                        "a parameter must be a whole segment in route template \(text)")
                    precondition(!raw.isEmpty, "empty segment in route template \(text)")
                    segments.append(.literal(String(raw)))
                }
            }
        }
        self.segments = segments
    }

    /// The template with parameter names erased: two templates with one shape are ambiguous.
    var shape: String {
        "/"
            + segments.map { if case .literal(let text) = $0 { text } else { "{}" } }
            .joined(separator: "/")
    }

    /// The parameters when `path` (decoded segments) matches, else nil.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(segments, path) {
            switch segment {
            case .literal(let text):
                guard text == value else { return nil }
            case .parameter(let name):
                guard !value.isEmpty else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }

    /// Whether `self` is preferred over `other` when both match one path: at the first
    /// position where they differ, a literal beats a parameter (`/runs/latest` over
    /// `/runs/{id}`).
    func isMoreSpecific(than other: RouteTemplate) -> Bool {
        for (mine, theirs) in zip(segments, other.segments) {
            switch (mine, theirs) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }
}
