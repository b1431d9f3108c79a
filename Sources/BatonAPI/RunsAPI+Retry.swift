import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `POST /v1/runs/{id}/retry`: a new run that keeps the original's successes and
    /// executes the rest (and what comes after it) again; `409` while the original runs.
    func retry(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let original = try loadRun(parameters)
        guard original.status.isTerminal else {
            throw APIError.conflict(
                "run \(original.id) is still \(original.status.rawValue); retry it once it has ended")
        }
        let spec = try SpecParser.parse(original.specJSON, format: .json, cores: context.cores, maxTasks: Int.max)
        let tasks = RetryPlan.initialTasks(
            spec: spec, original: try context.store.tasks(runID: original.id), originalRunID: original.id)
        let specJSON = original.specJSON
        let record = RunRecord(
            id: RunID.generate(), name: original.name, workflow: original.workflow,
            trigger: .retry(originalRunID: original.id), createdAt: Date(), specJSON: specJSON,
            specHash: original.specHash)
        linkKeptLogs(tasks: tasks, from: original.id, to: record.id)
        try context.creator.create(record, spec: spec, tasks: tasks)
        let stored = try context.store.run(id: record.id) ?? record
        return Self.json(201, try document(stored)).withHeader("Location", "/v1/runs/\(record.id)")
    }

    /// A kept task shows the output it had in the original run: its attempt logs are
    /// hard-linked (copied across file systems) into the new run's log directory.
    func linkKeptLogs(tasks: [TaskRecord], from originalID: String, to runID: String) {
        let files = FileManager.default
        for task in tasks where task.status == .succeeded && task.attempt > 0 {
            for attempt in 1...task.attempt {
                let source = context.dataDirectory.appendingPathComponent(
                    LogLayout.relativePath(runID: originalID, taskIndex: task.index, attempt: attempt))
                let target = context.dataDirectory.appendingPathComponent(
                    LogLayout.relativePath(runID: runID, taskIndex: task.index, attempt: attempt))
                guard files.fileExists(atPath: source.path) else { continue }
                try? files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if (try? files.linkItem(at: source, to: target)) == nil {
                    try? files.copyItem(at: source, to: target)
                }
            }
        }
    }
}
