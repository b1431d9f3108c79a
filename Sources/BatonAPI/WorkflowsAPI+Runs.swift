import BatonCore
import BatonHTTP
import Foundation

extension WorkflowsAPI {
    /// `POST /v1/workflows/{name}/runs`: a run now (trigger `manual`), with the body's
    /// optional `env` merged over the spec's. Allowed on a paused workflow too: pausing
    /// stops cron and webhooks, not a person asking.
    func runNow(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let workflow = try load(parameters)
        var overrides = ManualRunRequest()
        if !request.body.isEmpty {
            try Self.requireJSON(request)
            do throws(SpecErrors) {
                overrides = try ManualRunRequest.parse(request.body)
            } catch {
                throw Self.invalid("invalid request", error)
            }
        }
        let stored = try SpecParser.parse(workflow.specJSON, format: .json, cores: context.cores, maxTasks: Int.max)
        let spec: WorkflowSpec
        do throws(SpecErrors) {
            spec = try overrides.apply(to: stored, cores: context.cores)
        } catch {
            throw Self.invalid("invalid env", error)
        }
        let run = NewRun(spec: spec, workflow: workflow.name, trigger: .manual, now: Date())
        // Keyed by the run's own id: the insert also records it as the workflow's last run.
        try context.creator.create(run.record, spec: spec, key: "manual:\(run.record.id)")
        let runs = RunsAPI(context: context)
        let current = try context.store.run(id: run.record.id) ?? run.record
        return RunsAPI.json(201, try runs.document(current)).withHeader("Location", "/v1/runs/\(run.record.id)")
    }

    /// `POST /v1/workflows/{name}/pause`: no cron fires and no webhooks until resumed.
    func pause(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try setPaused(parameters, true)
    }

    /// `POST /v1/workflows/{name}/resume`: cron fires again from now on (instants that fell
    /// in the pause are not caught up).
    func resume(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try setPaused(parameters, false)
    }

    private func setPaused(_ parameters: RouteParameters, _ paused: Bool) throws -> HTTPResponse {
        let name = parameters["name"] ?? ""
        guard let record = try context.workflows.setPaused(name: name, paused: paused) else {
            throw Self.notFound(name)
        }
        changed(name, paused ? "paused" : "resumed")
        return RunsAPI.json(200, try document(record))
    }
}
