import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `POST /v1/runs`: validate, commit to SQLite, then start. The `201` is sent only once
    /// the run is on disk (SPEC §3).
    func submit(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let contentType = request.headers["Content-Type"]
        guard let format = MediaType.specFormat(contentType) else {
            throw APIError.unsupportedMediaType(contentType)
        }
        let spec: WorkflowSpec
        do throws(SpecErrors) {
            spec = try SpecParser.parse(
                request.body, format: format, cores: context.cores, maxTasks: context.maxTasks)
        } catch {
            let errors = error
            let fields = errors.errors.map { ProblemField(path: $0.path, message: $0.message) }
            let detail =
                fields.count == 1
                ? "invalid spec: \(errors.errors[0])" : "invalid spec: \(fields.count) errors"
            throw APIError.badRequest(detail, fields)
        }
        let record = try createRun(spec: spec, trigger: .api, workflow: nil, extraEnvironment: [:])
        // The run as committed (queued, every task pending): one consistent snapshot without
        // reading it back, which had cost three reads per submission.
        let tasks = spec.tasks.enumerated().map { index, task in
            TaskRecord(index: index, name: task.name, group: task.group)
        }
        let notifications =
            spec.notify.isEmpty ? nil : try context.notifications.notifications(runID: record.id).map(\.document)
        let document = RunDocument(run: record, tasks: tasks, notifications: notifications)
        return HTTPResponse(
            status: 201, headers: [("Content-Type", "application/json"), ("Location", "/v1/runs/\(record.id)")],
            body: Data(RunDocumentJSON.encode(document)))
    }

    /// Commits a new run and hands it to the executor; shared by every trigger.
    func createRun(
        spec: WorkflowSpec, trigger: RunTrigger, workflow: String?, extraEnvironment: [String: String]
    ) throws -> RunRecord {
        let specJSON = SpecEncoder.encode(spec)
        let record = RunRecord(
            id: RunID.generate(), name: spec.name, workflow: workflow, trigger: trigger,
            createdAt: Date(), specJSON: specJSON, specHash: ContentDigest.hex(specJSON))
        do {
            try context.creator.create(record, spec: spec, extraEnvironment: extraEnvironment)
        } catch let errors as SpecErrors {
            // A `workflow: NAME` task that names no stored workflow, or a recursive one.
            throw WorkflowsAPI.invalid("invalid spec", errors)
        }
        return record
    }
}
