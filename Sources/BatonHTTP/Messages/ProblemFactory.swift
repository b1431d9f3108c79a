/// Ready-made problem+json responses for the errors of SPEC §4.
public enum ProblemFactory {
    /// `400`: the request is malformed or fails validation; `errors` lists each finding.
    public static func badRequest(_ detail: String, errors: [ProblemField] = []) -> HTTPResponse {
        .problem(400, detail: detail, errors: errors)
    }

    /// `401` with `WWW-Authenticate: Bearer`: a missing or wrong bearer token.
    public static func unauthorized(
        _ detail: String = "This request needs 'Authorization: Bearer <token>' with a valid token."
    ) -> HTTPResponse {
        HTTPResponse.problem(401, detail: detail).withHeader("WWW-Authenticate", "Bearer")
    }

    /// `401` without a bearer challenge, for requests authenticated some other way (webhook
    /// signatures).
    public static func unauthenticated(_ detail: String) -> HTTPResponse {
        .problem(401, detail: detail)
    }

    /// `404`: no such resource.
    public static func notFound(_ detail: String) -> HTTPResponse {
        .problem(404, detail: detail)
    }

    /// `404` for a path no route matches.
    public static func routeNotFound(method: String, path: String) -> HTTPResponse {
        .problem(404, detail: "No route for \(method) \(path).")
    }

    /// `405` with `Allow` listing `allowed` (the methods the path does answer).
    public static func methodNotAllowed(method: String, path: String, allowed: [String])
        -> HTTPResponse
    {
        HTTPResponse.problem(
            405, detail: "\(method) is not allowed on \(path); allowed: \(allowed.joined(separator: ", "))."
        )
        .withHeader("Allow", allowed.joined(separator: ", "))
    }

    /// `409`: the request conflicts with the resource's state (e.g. cancelling an ended run).
    public static func conflict(_ detail: String) -> HTTPResponse {
        .problem(409, detail: detail)
    }

    /// `413`: the body is larger than `limit` bytes.
    public static func contentTooLarge(limit: Int) -> HTTPResponse {
        .problem(413, detail: "The request body exceeds the limit of \(limit) bytes.")
    }

    /// `415`: the body's `Content-Type` (nil when absent) is not one of `supported`.
    public static func unsupportedMediaType(_ contentType: String?, supported: [String])
        -> HTTPResponse
    {
        let got = contentType.map { "'\($0)'" } ?? "no Content-Type"
        return .problem(
            415, detail: "Unsupported media type: \(got); expected one of \(supported.joined(separator: ", ")).")
    }

    /// `503` with `Retry-After`: a limit is reached for now (e.g. open event streams).
    public static func serviceUnavailable(_ detail: String, retryAfterSeconds: Int) -> HTTPResponse {
        HTTPResponse.problem(503, detail: detail).withHeader("Retry-After", String(retryAfterSeconds))
    }

    /// `500` without details for the client; put the cause in ``HTTPResponse/diagnostic``
    /// so the server logs it with the request id (which the client gets as `X-Request-Id`).
    public static func internalServerError(requestID: String? = nil) -> HTTPResponse {
        let reference = requestID.map { " (request id \($0))" } ?? ""
        return .problem(500, detail: "An unexpected error occurred\(reference).")
    }
}

/// An error that carries the response to answer with; a ``Router`` route that throws one
/// answers with its ``response``. Anything else thrown becomes a logged `500`.
public protocol HTTPResponseConvertible: Error {
    /// The response to send for this error.
    var response: HTTPResponse { get }
}

/// An error wrapping a ready response, e.g. `throw HTTPError(ProblemFactory.notFound("…"))`.
public struct HTTPError: HTTPResponseConvertible, Sendable {
    /// The response to send.
    public var response: HTTPResponse

    /// Wraps `response`.
    public init(_ response: HTTPResponse) {
        self.response = response
    }
}

extension Problem: HTTPResponseConvertible {
    /// The problem rendered as `application/problem+json`.
    public var response: HTTPResponse { .problem(self) }
}
