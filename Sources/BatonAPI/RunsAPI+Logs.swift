import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `GET /v1/runs/{id}/tasks/{task}/log?attempt=N&offset=B`: a task's output from byte
    /// `offset`, with `X-Log-Size` and `X-Log-Complete` so a client can tail it.
    ///
    /// With `?wait=` it answers as soon as the log has bytes past `offset` or is complete,
    /// else with an empty body when the wait is over.
    func log(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let response = try currentLog(request, parameters)
        guard let wait = try Self.waitParameter(request), Self.isWaiting(response), let live = context.live else {
            return response
        }
        let id = parameters["id"] ?? ""
        let name = parameters["task"] ?? ""
        return .later(
            LongPoll(
                hub: live.hub, live: live, wait: wait, recheck: context.longPollRecheck,
                wants: { event in
                    event.runID == id && event.task == name
                        && (event.kind == .logAppended || event.kind == .taskUpdated)
                },
                attempt: { final in
                    let answer = Self.answering { try currentLog(request, parameters) }
                    return !Self.isWaiting(answer) || final ? answer : nil
                }))
    }

    /// An answer with no new bytes of a log that may still grow.
    static func isWaiting(_ response: HTTPResponse) -> Bool {
        response.status == 200 && (response.file?.length ?? response.body.count) == 0
            && response.header("X-Log-Complete") == "false"
    }

    /// The log from `offset` as it is now.
    func currentLog(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        let name = parameters["task"] ?? ""
        guard let task = try context.store.task(runID: run.id, named: name) else {
            throw APIError.notFound("run \(run.id) has no task \"\(name)\"")
        }
        var offset = 0
        if let text = request.query["offset"] {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest(
                    "invalid offset",
                    [ProblemField(path: "offset", message: "must be a non-negative integer, not \"\(text)\"")])
            }
            offset = value
        }
        var attempt = task.attempt
        if let text = request.query["attempt"] {
            guard let value = Int(text), value >= 1 else {
                throw APIError.badRequest(
                    "invalid attempt",
                    [ProblemField(path: "attempt", message: "must be an integer ≥ 1, not \"\(text)\"")])
            }
            guard value <= task.attempt else {
                throw APIError.notFound("task \"\(name)\" has made \(task.attempt) attempt(s); no attempt \(value)")
            }
            attempt = value
        }
        guard attempt >= 1 else {
            // Not started yet: an empty log, complete only if the task will never run.
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "text/plain; charset=utf-8"), ("X-Log-Size", "0"),
                    ("X-Log-Complete", task.status.isTerminal ? "true" : "false"),
                ])
        }
        // Cluster mode: an attempt another node ran has its log there.
        if request.headers[RemoteLog.proxiedHeader] == nil, let locate = context.remoteLogs,
            let holder = try locate(run.id, task.index, attempt)
        {
            return RemoteLog.fetch(
                from: holder, path: request.path, attempt: attempt, offset: offset,
                authorization: request.headers["Authorization"])
        }
        let record = try context.store.attempts(runID: run.id, taskIndex: task.index)
            .first { $0.attempt == attempt }
        let complete = record?.finishedAt != nil || (attempt < task.attempt) || task.status.isTerminal
        let path = context.dataDirectory
            .appendingPathComponent(LogLayout.relativePath(runID: run.id, taskIndex: task.index, attempt: attempt))
        // Streamed from the file, never copied into memory (a 10 MiB log read slowly by
        // 100 clients must not cost 1 GB).
        let file = FileBody(path: path.path, offset: offset)
        var response = HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", "text/plain; charset=utf-8"), ("X-Log-Size", String(file?.size ?? 0)),
                ("X-Log-Complete", complete ? "true" : "false"),
            ])
        response.file = file
        return response
    }
}
