import BatonCore
import BatonHTTP
import Foundation

/// `GET /v1/events`: the live event stream (docs/console-api.md).
struct EventsAPI: Sendable {
    let live: LiveEvents

    func stream(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let runID = request.query["run"].flatMap { $0.isEmpty ? nil : $0 }
        let logsTask = request.query["logs"].flatMap { $0.isEmpty ? nil : $0 }
        if logsTask != nil && runID == nil {
            throw APIError.badRequest(
                "invalid query", [ProblemField(path: "logs", message: "needs run=ID: logs are followed per run")])
        }
        guard live.hub.openStream() else {
            live.metrics.streamCloses.increment([StreamCloseReason.limit.rawValue])
            return ProblemFactory.serviceUnavailable(
                "too many open event streams (at most \(live.hub.maxStreams)); retry later", retryAfterSeconds: 5)
        }
        let lastEventID = request.headers["Last-Event-ID"] ?? request.query["last_event_id"]
        let stream = EventStream(
            hub: live.hub, metrics: live.metrics, runID: runID, logsTask: logsTask,
            lastEventID: lastEventID.flatMap { $0.isEmpty ? nil : $0 })
        return .streamed(
            stream,
            headers: [
                ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache"),
                ("X-Accel-Buffering", "no"),
            ])
    }
}
