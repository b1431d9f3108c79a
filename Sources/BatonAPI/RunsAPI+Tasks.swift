import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `GET /v1/runs/{id}/tasks?status=&group=&limit=&cursor=`: the run's tasks in spec
    /// order, one page at a time (a 100,000-task run need not be sent whole).
    func tasks(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        var problems: [ProblemField] = []
        var status: TaskStatus?
        if let text = request.query["status"], !text.isEmpty {
            status = TaskStatus(rawValue: text)
            if status == nil {
                let allowed = TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(ProblemField(path: "status", message: "must be one of \(allowed), not \"\(text)\""))
            }
        }
        var limit = 100
        if let text = request.query["limit"] {
            if let value = Int(text), (1...1000).contains(value) {
                limit = value
            } else {
                problems.append(
                    ProblemField(path: "limit", message: "must be an integer from 1 to 1000, not \"\(text)\""))
            }
        }
        var from = 0
        if let text = request.query["cursor"], !text.isEmpty {
            if text.hasPrefix("t"), let value = Int(text.dropFirst()), value >= 0 {
                from = value
            } else {
                problems.append(ProblemField(path: "cursor", message: "not a cursor of this server: \"\(text)\""))
            }
        }
        guard problems.isEmpty else {
            throw APIError.badRequest(
                "invalid query: " + problems.map { "\($0.path) \($0.message)" }.joined(separator: "; "), problems)
        }
        let group = request.query["group"].flatMap { $0.isEmpty ? nil : $0 }
        let page = try context.store.tasks(runID: run.id, from: from, status: status, group: group, limit: limit + 1)
        let shown = page.prefix(limit)
        let next = page.count > limit ? shown.last.map { "t\($0.index + 1)" } : nil
        return Self.json(200, TaskPage(tasks: shown.map(TaskDocument.init), nextCursor: next))
    }

    /// `GET /v1/runs/{id}/timeline`: every attempt of every task with its queue time.
    func timeline(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        let tasks = try context.store.tasks(runID: run.id)
        var attemptsOf: [Int: [AttemptRecord]] = [:]
        for attempt in try context.store.attempts(runID: run.id) {
            attemptsOf[attempt.taskIndex, default: []].append(attempt)
        }
        var rows: [String] = []
        rows.reserveCapacity(tasks.count)
        for task in tasks {
            var row = JSONText()
            row.add("name", task.name)
            row.add("group", task.group)
            row.add("status", task.status.rawValue)
            let attempts = (attemptsOf[task.index] ?? []).map { attempt in
                var item = JSONText()
                item.add("attempt", attempt.attempt)
                item.add("queued_at", attempt.queuedAt)
                item.add("started_at", attempt.startedAt)
                item.add("finished_at", attempt.finishedAt)
                item.add("status", attempt.status.rawValue)
                item.add("exit_code", attempt.exitCode)
                return item.string
            }
            row.add("attempts", json: "[" + attempts.joined(separator: ",") + "]")
            rows.append(row.string)
        }
        var header = JSONText()
        header.add("id", run.id)
        header.add("status", run.status.rawValue)
        header.add("created_at", run.createdAt)
        header.add("started_at", run.startedAt)
        header.add("finished_at", run.finishedAt)
        let body = "{\"run\":" + header.string + ",\"tasks\":[" + rows.joined(separator: ",") + "]}"
        return .text(200, body, contentType: "application/json")
    }

    /// `GET /v1/runs/{id}/graph.svg?collapse=auto|groups|none`: the DAG laid out by the
    /// server. `auto` folds tasks into groups (or layers) above 300 tasks; `none` draws
    /// every task up to 5,000.
    func graphSVG(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        let spec = try SpecParser.parse(run.specJSON, format: .json, cores: context.cores, maxTasks: Int.max)
        let mode = request.query["collapse"] ?? "auto"
        let fold: Bool
        switch mode {
        case "auto": fold = spec.tasks.count > Self.foldAbove
        case "groups": fold = true
        case "none":
            guard spec.tasks.count <= Self.drawAtMost else {
                throw APIError.badRequest(
                    "too many tasks to draw one by one",
                    [
                        ProblemField(
                            path: "collapse",
                            message:
                                "the run has \(spec.tasks.count) tasks; collapse=none draws at most \(Self.drawAtMost)")
                    ])
            }
            fold = false
        default:
            throw APIError.badRequest(
                "invalid collapse",
                [ProblemField(path: "collapse", message: "must be auto, groups or none, not \"\(mode)\"")])
        }
        let layout = GraphLayout(spec: spec, tasks: try context.store.tasks(runID: run.id), fold: fold)
        return HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", "image/svg+xml; charset=utf-8"), ("X-Graph-Collapsed", fold ? "true" : "false"),
            ],
            body: Data(GraphSVG.render(layout, title: spec.name).utf8))
    }

    static let foldAbove = 300
    static let drawAtMost = 5000
}

/// `{"tasks": [...], "next_cursor": ...}`.
struct TaskPage: Encodable {
    var tasks: [TaskDocument]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case tasks
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tasks, forKey: .tasks)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
