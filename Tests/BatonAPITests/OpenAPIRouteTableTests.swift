import BatonAPI
import BatonCore
import BatonStorage
import Foundation
import Logging
import Testing
import Yams

/// Holds `openapi.yaml` against the server's route table (STYLE.md, "Gates in the repo"),
/// so the contract cannot drift from what `baton serve` answers. The answers themselves
/// are held against the document by `scripts/schemathesis.sh`.
@Suite struct OpenAPIRouteTableTests {
    @Test func documentedOperationsAreExactlyTheRouteTable() throws {
        let operations = try OpenAPIDocument().operations()
        let documented = operations.map(\.description)
        let served = try withRouteTable { table in table.map { "\($0.method) \($0.template)" } }

        let missing = Set(served).subtracting(documented).sorted()
        let extra = Set(documented).subtracting(served).sorted()
        #expect(missing.isEmpty, "served but not in openapi.yaml: \(missing)")
        #expect(extra.isEmpty, "in openapi.yaml but not served: \(extra)")
        #expect(documented.count == Set(documented).count, "an operation is documented twice: \(documented)")
        #expect(served.count == Set(served).count, "the route table has a duplicate: \(served)")
    }

    /// SPEC §4: every error is problem+json, so every documented 4xx and 5xx answer says so.
    @Test func everyDocumentedErrorIsProblemJSON() throws {
        let document = try OpenAPIDocument()
        for operation in try document.operations() {
            let responses = try #require(operation.node["responses"]?.mapping, "\(operation) has no responses")
            for (status, response) in responses {
                let code = try #require(status.string)
                guard code.hasPrefix("4") || code.hasPrefix("5") else { continue }
                let resolved = try document.resolve(response)
                let content = try #require(resolved["content"]?.mapping, "\(operation) \(code) has no content")
                let mediaTypes = Array(content.keys.compactMap(\.string))
                #expect(mediaTypes == ["application/problem+json"], "\(operation) \(code): \(mediaTypes)")
                let schema = content["application/problem+json"]?["schema"]?["$ref"]?.string
                #expect(schema == "#/components/schemas/Problem", "\(operation) \(code) schema: \(schema ?? "none")")
            }
        }
    }

    /// SPEC §4: every `/v1` request needs the bearer token (`401` without it), except
    /// webhooks, which authenticate by their signature; `/healthz` needs nothing. The
    /// document says so with a global bearer requirement that only those operations lift
    /// (`security: []`), and a documented `401` wherever one can be answered.
    @Test func authenticationIsDocumentedAsServed() throws {
        let document = try OpenAPIDocument()
        let global = try #require(document.root["security"]?.sequence, "no global security requirement")
        #expect(global.compactMap { $0.mapping?.keys.first?.string } == ["bearerAuth"])
        let scheme = document.root["components"]?["securitySchemes"]?["bearerAuth"]
        #expect(scheme?["type"]?.string == "http")
        #expect(scheme?["scheme"]?.string == "bearer")

        for operation in try document.operations() {
            let statuses = operation.node["responses"]?.mapping?.keys.compactMap(\.string) ?? []
            let documents401 = statuses.contains("401")
            // `/metrics` too (unless `--metrics-public`): it tells a stranger what runs.
            let needsToken =
                (operation.path.hasPrefix("/v1/") && !operation.path.hasPrefix("/v1/hooks/"))
                || operation.path == "/metrics"
            if needsToken {
                #expect(operation.node["security"] == nil, "\(operation) overrides the global security")
                #expect(documents401, "\(operation) does not document 401")
            } else {
                let security = try #require(operation.node["security"]?.sequence, "\(operation) needs `security: []`")
                #expect(security.isEmpty, "\(operation) must need no token")
                // Webhooks answer 401 for a bad signature; nothing else without a token does.
                let isWebhook = operation.path.hasPrefix("/v1/hooks/")
                #expect(documents401 == isWebhook, "\(operation): 401 documented: \(documents401)")
            }
        }
    }

    /// The route table of a real router over a real store in a scratch directory.
    private func withRouteTable<Result>(
        _ body: ([(method: String, template: String)]) throws -> Result
    ) throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("baton-api-tests-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteRunStore(dataDirectory: directory)
        defer { try? store.close() }
        var context = APIContext(store: store, control: InertRunControl(), dataDirectory: directory)
        context.live = LiveEvents(
            hub: EventHub(), metrics: BatonMetrics(version: "test"), store: store, logger: Logger(label: "test"))
        context.nodes = { [] }
        return try body(APIRoutes.router(context).routeTable)
    }
}

/// A `RunControl` that starts and cancels nothing: building the router needs one, and the
/// route table does not depend on it.
private struct InertRunControl: RunControl {
    func submit(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]?, extraEnvironment: [String: String]
    ) {}
    func cancel(runID: String) -> CancelResult { .notFound }
}
