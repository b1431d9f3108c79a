import BatonCore
import BatonHTTP
import Foundation

/// Handlers of `/v1/workflows…` (SPEC §4 "Stored workflows, cron and webhooks"): stored
/// specs with an optional cron schedule and webhook. Every change calls
/// `context.workflowsChanged` so that the cron ticker re-plans at once.
struct WorkflowsAPI: Sendable {
    let context: APIContext

    /// `PUT /v1/workflows/{name}`: `201` created or `200` replaced. A replaced workflow
    /// keeps its creation time, pause state, cron watermark and last run.
    func put(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let name = parameters["name"] ?? ""
        if let problem = WorkflowDefinition.nameProblem(name) {
            throw APIError.badRequest("invalid workflow name", [ProblemField(path: "name", message: problem)])
        }
        try Self.requireJSON(request)
        let definition: WorkflowDefinition
        do throws(SpecErrors) {
            definition = try WorkflowDefinition.parse(request.body, cores: context.cores, maxTasks: context.maxTasks)
        } catch {
            throw Self.invalid("invalid workflow", error)
        }
        // Its `workflow: NAME` tasks must name stored workflows, none leading back here.
        do {
            _ = try SubWorkflowResolver.resolve(definition.spec, name: name) { other in
                try context.workflows.workflow(name: other).map {
                    try SpecParser.parse($0.specJSON, format: .json, maxTasks: Int.max)
                }
            }
        } catch let errors as SpecErrors {
            let underSpec = errors.errors.map { SpecError(path: "spec." + $0.path, message: $0.message) }
            throw Self.invalid("invalid workflow", SpecErrors(underSpec))
        }
        let existing = try context.workflows.workflow(name: name)
        let record = definition.record(name: name, paused: existing?.paused ?? false, now: Date())
        let created = try context.workflows.upsertWorkflow(record)
        changed(name, created ? "created" : "updated")
        let stored = try context.workflows.workflow(name: name) ?? record
        let response = RunsAPI.json(created ? 201 : 200, try document(stored))
        return created ? response.withHeader("Location", "/v1/workflows/\(name)") : response
    }

    /// `GET /v1/workflows`: every workflow by name.
    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let now = Date()
        let documents = try context.workflows.workflows().map { try document($0, now: now) }
        return RunsAPI.json(200, WorkflowList(workflows: documents))
    }

    /// `GET /v1/workflows/{name}`.
    func get(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        RunsAPI.json(200, try document(try load(parameters)))
    }

    /// `DELETE /v1/workflows/{name}`: `204`; its runs, running or not, are kept.
    func delete(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let name = parameters["name"] ?? ""
        guard try context.workflows.deleteWorkflow(name: name) else { throw Self.notFound(name) }
        changed(name, "deleted")
        return .empty(204)
    }

    /// Re-plans cron and tells live clients (`workflow.updated`).
    func changed(_ name: String, _ change: String) {
        context.workflowsChanged()
        var data = JSONText()
        data.add("name", name)
        data.add("change", change)
        context.live?.publish(.workflowUpdated, data: data.string)
    }

    /// The workflow named by `{name}`, or a `404`.
    func load(_ parameters: RouteParameters) throws -> WorkflowRecord {
        let name = parameters["name"] ?? ""
        guard let record = try context.workflows.workflow(name: name) else { throw Self.notFound(name) }
        return record
    }

    /// The Workflow document: the record, its last run's summary, its next fire times.
    func document(_ record: WorkflowRecord, now: Date = Date()) throws -> WorkflowDocument {
        var lastRun: RunDocument?
        if let id = record.lastRunID, let run = try context.store.run(id: id) {
            lastRun = RunDocument(summary: run, counts: try context.store.taskCounts(runID: run.id))
        }
        return WorkflowDocument(record: record, lastRun: lastRun, now: now)
    }

    static func notFound(_ name: String) -> APIError {
        .notFound("no workflow \"\(name)\"")
    }

    /// `415` unless the body is JSON (workflow bodies are JSON only).
    static func requireJSON(_ request: HTTPRequest) throws {
        let contentType = request.headers["Content-Type"]
        guard MediaType.specFormat(contentType) == .json else {
            throw HTTPError(ProblemFactory.unsupportedMediaType(contentType, supported: ["application/json"]))
        }
    }

    /// A `400` listing every problem with its path.
    static func invalid(_ what: String, _ errors: SpecErrors) -> APIError {
        let fields = errors.errors.map { ProblemField(path: $0.path, message: $0.message) }
        let detail = fields.count == 1 ? "\(what): \(errors.errors[0])" : "\(what): \(fields.count) errors"
        return .badRequest(detail, fields)
    }
}
