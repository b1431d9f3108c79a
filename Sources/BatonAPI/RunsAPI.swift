import BatonCore
import BatonHTTP
import Foundation

/// Handlers of `/v1/runs…` (SPEC §4). Short and synchronous: they read SQLite through the
/// store's reader connections and talk to the executor through its inbox.
struct RunsAPI: Sendable {
    let context: APIContext
    /// Rendered runs by revision, so that polling an unchanged run costs no database read.
    let cache = RunDocumentCache()
    /// Task objects of running runs kept rendered, so a changed run re-renders what changed.
    let rendering = RunRendering()

    /// The JSON encoder of every answer (sorted keys: stable bytes, stable ETags).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The run named by `{id}`, or a 404 answer.
    func loadRun(_ parameters: RouteParameters) throws -> RunRecord {
        let id = parameters["id"] ?? ""
        guard let run = try context.store.run(id: id) else {
            throw APIError.notFound("no run \"\(id)\"")
        }
        return run
    }

    /// The full Run document with its tasks.
    func document(_ run: RunRecord) throws -> RunDocument {
        let deliveries = try context.notifications.notifications(runID: run.id)
        return RunDocument(
            run: run, tasks: try context.store.tasks(runID: run.id),
            notifications: deliveries.isEmpty ? nil : deliveries.map(\.document))
    }

    static func json(_ status: Int, _ value: some Encodable) -> HTTPResponse {
        .json(status, value, encoder: encoder)
    }
}

/// Errors of the handlers, rendered as problem+json by the router.
enum APIError: Error, HTTPResponseConvertible {
    case notFound(String)
    case badRequest(String, [ProblemField])
    case conflict(String)
    case unsupportedMediaType(String?)

    var response: HTTPResponse {
        switch self {
        case .notFound(let detail): return ProblemFactory.notFound(detail)
        case .badRequest(let detail, let errors): return ProblemFactory.badRequest(detail, errors: errors)
        case .conflict(let detail): return ProblemFactory.conflict(detail)
        case .unsupportedMediaType(let type):
            return ProblemFactory.unsupportedMediaType(type, supported: MediaType.specTypes)
        }
    }
}

/// Store failures a client can act on get their own answer instead of an anonymous `500`:
/// a full disk is `507 Insufficient Storage` naming the cause (retry once space is freed).
extension RunStoreError: HTTPResponseConvertible {
    public var response: HTTPResponse {
        switch self {
        case .storageFull(let detail):
            HTTPResponse.problem(507, detail: "Baton cannot store the change: \(detail). Retry once space is freed.")
                .withHeader("Retry-After", "30")
        case .invalidCursor(let cursor):
            ProblemFactory.badRequest(
                "invalid cursor",
                errors: [ProblemField(path: "cursor", message: "not a cursor of this server: \"\(cursor)\"")])
        case .duplicateRun(let id): ProblemFactory.conflict("run \(id) already exists")
        case .newerSchema:
            ProblemFactory.internalServerError()
        }
    }
}
