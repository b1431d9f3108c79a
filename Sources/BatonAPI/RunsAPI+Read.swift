import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `GET /v1/runs`: newest first, filtered, paginated by an opaque cursor.
    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        var query = RunQuery()
        var problems: [ProblemField] = []
        if let text = request.query["status"] {
            if let status = RunStatus(rawValue: text) {
                query.status = status
            } else {
                let allowed = RunStatus.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(ProblemField(path: "status", message: "must be one of \(allowed), not \"\(text)\""))
            }
        }
        if let text = request.query["limit"] {
            if let limit = Int(text), (1...1000).contains(limit) {
                query.limit = limit
            } else {
                problems.append(
                    ProblemField(path: "limit", message: "must be an integer from 1 to 1000, not \"\(text)\""))
            }
        }
        if let name = request.query["name"] { query.name = name }
        if let workflow = request.query["workflow"] { query.workflow = workflow }
        if let cursor = request.query["cursor"], !cursor.isEmpty { query.cursor = cursor }
        guard problems.isEmpty else {
            throw APIError.badRequest(
                "invalid query: " + problems.map { "\($0.path) \($0.message)" }.joined(separator: "; "), problems)
        }
        let page: RunPage
        do {
            page = try context.store.listRuns(query)
        } catch RunStoreError.invalidCursor(let cursor) {
            throw APIError.badRequest(
                "invalid cursor", [ProblemField(path: "cursor", message: "not a cursor of this server: \"\(cursor)\"")])
        }
        let summaries = try page.runs.map { run in
            let deliveries = try context.notifications.notifications(runID: run.id)
            return RunDocument(
                summary: run, counts: try context.store.taskCounts(runID: run.id),
                notifications: deliveries.isEmpty ? nil : deliveries.map(\.document))
        }
        return Self.json(200, RunList(runs: summaries, nextCursor: page.nextCursor))
    }

    /// `GET /v1/runs/{id}`, with an ETag so dashboards can poll for `304`s; with `?wait=`
    /// and a matching `If-None-Match` it is a long-poll: answered as soon as the run
    /// changes, or `304` when the wait is over.
    func get(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let response = try currentDocument(request, parameters)
        guard let wait = try Self.waitParameter(request), response.status == 304, let live = context.live else {
            return response
        }
        let id = parameters["id"] ?? ""
        return .later(
            LongPoll(
                hub: live.hub, live: live, wait: wait, recheck: context.longPollRecheck,
                wants: { event in
                    event.runID == id
                        && (event.kind == .runUpdated || event.kind == .taskUpdated
                            || event.kind == .notificationUpdated)
                },
                attempt: { final in
                    let answer = Self.answering { try currentDocument(request, parameters) }
                    return answer.status != 304 || final ? answer : nil
                }))
    }

    /// `?wait=` parsed (nil when absent).
    static func waitParameter(_ request: HTTPRequest) throws -> Duration? {
        guard let text = request.query["wait"] else { return nil }
        guard let wait = LongPoll.parseWait(text) else {
            throw APIError.badRequest(
                "invalid wait",
                [
                    ProblemField(
                        path: "wait", message: "must be a duration up to 60s (e.g. 30s, 500ms, 1m), not \"\(text)\"")
                ])
        }
        return wait
    }

    /// The response of `body`, or the error response it threw (as the router would).
    static func answering(_ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let error as any HTTPResponseConvertible {
            return error.response
        } catch {
            var response = ProblemFactory.internalServerError()
            response.diagnostic = "long-poll answer threw \(type(of: error)): \(error)"
            return response
        }
    }

    /// The Run document now (from the cache when unchanged), or `304` for `If-None-Match`.
    func currentDocument(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let id = parameters["id"] ?? ""
        // Read the revision BEFORE loading: a write committed meanwhile bumps it after,
        // so a stale rendering can never be cached under the newest revision.
        let revision = context.revisions.current(id)
        let entry: RunDocumentCache.Entry
        if context.cachesRunDocuments, let cached = cache.lookup(id, revision: revision) {
            entry = cached
        } else {
            let run = try loadRun(parameters)
            let deliveries = try context.notifications.notifications(runID: run.id)
            let (body, etag) = rendering.render(
                run, tasks: try context.store.tasks(runID: run.id),
                notifications: deliveries.isEmpty ? nil : deliveries.map(\.document))
            entry = RunDocumentCache.Entry(revision: revision, body: body, etag: etag)
            cache.store(id, entry)
        }
        if let header = request.headers["If-None-Match"], ETag.matches(header, entry.etag) {
            return HTTPResponse(status: 304, headers: [("ETag", entry.etag)])
        }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "application/json"), ("ETag", entry.etag)], body: entry.body)
    }

    /// `GET /v1/runs/{id}/graph`: the DAG in DOT, nodes coloured by status.
    func graph(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        let spec = try SpecParser.parse(run.specJSON, format: .json, cores: context.cores, maxTasks: Int.max)
        let dot = RunGraph.dot(spec: spec, tasks: try context.store.tasks(runID: run.id))
        return .text(200, dot, contentType: "text/vnd.graphviz; charset=utf-8")
    }
}

/// `{"runs": [...], "next_cursor": ...}`.
struct RunList: Encodable {
    var runs: [RunDocument]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case runs
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runs, forKey: .runs)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `If-None-Match` matching (RFC 9110 §13.1.2: weak comparison, lists, `*`).
enum ETag {
    static func matches(_ header: String, _ tag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var value = candidate.trimmingCharacters(in: .whitespaces)
            if value == "*" { return true }
            if value.hasPrefix("W/") { value.removeFirst(2) }
            if value == tag { return true }
        }
        return false
    }
}
