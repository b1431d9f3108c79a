import BatonCore
import BatonHTTP
import Foundation

extension RunsAPI {
    /// `POST /v1/runs/{id}/cancel`: `202` once the cancel is recorded, `409` if the run ended.
    func cancel(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let run = try loadRun(parameters)
        switch context.control.cancel(runID: run.id) {
        case .accepted:
            let current = try context.store.run(id: run.id) ?? run
            return Self.json(202, try document(current))
        case .alreadyEnded:
            throw APIError.conflict("run \(run.id) has already ended (\(run.status.rawValue))")
        case .notFound:
            throw APIError.notFound("no run \"\(run.id)\"")
        }
    }
}
