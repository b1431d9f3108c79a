import Foundation

/// The body of `POST /v1/workflows/{name}/runs` (SPEC §4): `{"env"?: {"NAME": "value"}}`,
/// environment variables merged over the spec's run-level `env` (task `env` still wins).
public struct ManualRunRequest: Sendable, Equatable {
    public var env: [String: String]

    public init(env: [String: String] = [:]) {
        self.env = env
    }

    /// Parses the body; an empty body is an empty request. Unknown keys are errors.
    public static func parse(_ data: Data) throws(SpecErrors) -> ManualRunRequest {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return ManualRunRequest() }
        let document: SpecValue
        do {
            document = try SpecValue.parseJSON(data)
        } catch {
            throw SpecErrors([error])
        }
        var decoder = SpecDecoder()
        var request = ManualRunRequest()
        if let members = decoder.members(document, at: .root) {
            for member in members {
                guard member.key == "env" else {
                    decoder.unknownKey(member.key, in: .root, known: ["env"])
                    continue
                }
                if member.value.isNull { continue }
                if let env = decoder.stringMap(member.value, at: SpecPath.root.key("env")) { request.env = env }
            }
        }
        guard decoder.errors.isEmpty else { throw SpecErrors(decoder.errors) }
        return request
    }

    /// `spec` with this request's `env` merged over its run-level `env`, validated again
    /// (a variable name the spec rules refuse is reported at `env.NAME`).
    public func apply(to spec: WorkflowSpec, cores: Int) throws(SpecErrors) -> WorkflowSpec {
        guard !env.isEmpty else { return spec }
        var merged = spec
        merged.env.merge(env) { _, override in override }
        return try SpecParser.parse(SpecEncoder.encode(merged), format: .json, cores: cores, maxTasks: Int.max)
    }
}
