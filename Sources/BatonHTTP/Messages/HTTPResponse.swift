import Foundation

/// A complete HTTP response: status, header fields and body.
///
/// `Content-Length` and `Date` are added by the server; don't set them.
public struct HTTPResponse: Sendable {
    /// The status code, 100...999.
    public var status: Int
    /// Header fields in order. Names and values must not contain CR or LF; such a field is
    /// dropped (and logged by name) rather than sent.
    public var headers: [(String, String)]
    /// The body; ignored by the server for `HEAD`, `204` and `304`.
    public var body: Data
    /// A diagnostic the server logs with the request's id and never sends, e.g. the error
    /// behind a `500`.
    public var diagnostic: String?
    /// When set, the body is streamed from it instead of ``body`` (chunked, unknown length).
    public var stream: (any HTTPBodyStream)?
    /// When set, the body is this part of a file instead of ``body``, read as it is sent.
    public var file: FileBody?
    /// When set, the real answer comes later from it (a long-poll); the other fields are
    /// ignored.
    public var deferred: (any HTTPDeferredReply)?
    /// The route template that answered (`/v1/runs/{id}`), set by ``Router``, for metrics.
    public var route: String?

    /// Creates a response.
    public init(
        status: Int, headers: [(String, String)] = [], body: Data = Data(), diagnostic: String? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.diagnostic = diagnostic
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { HTTPHeaders.namesEqual($0.0, name) }?.1
    }

    /// This response with one more header field.
    public func withHeader(_ name: String, _ value: String) -> HTTPResponse {
        var copy = self
        copy.headers.append((name, value))
        return copy
    }

    /// `value` encoded by `encoder` as `application/json`. When encoding fails the answer is
    /// a `500` problem whose ``diagnostic`` names the error.
    public static func json(
        _ status: Int, _ value: some Encodable, encoder: JSONEncoder = JSONEncoder()
    ) -> HTTPResponse {
        do {
            let body = try encoder.encode(value)
            return HTTPResponse(
                status: status, headers: [("Content-Type", "application/json")], body: body)
        } catch {
            var response = ProblemFactory.internalServerError()
            response.diagnostic = "JSON encoding of \(type(of: value)) failed: \(error)"
            return response
        }
    }

    /// `text` as UTF-8 with the given content type (default `text/plain; charset=utf-8`).
    public static func text(
        _ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Data(text.utf8))
    }

    /// A streamed `200` answer with `headers` (add the content type).
    public static func streamed(_ stream: any HTTPBodyStream, headers: [(String, String)]) -> HTTPResponse {
        var response = HTTPResponse(status: 200, headers: headers)
        response.stream = stream
        return response
    }

    /// An answer that `deferred` gives later.
    public static func later(_ deferred: any HTTPDeferredReply) -> HTTPResponse {
        var response = HTTPResponse(status: 200)
        response.deferred = deferred
        return response
    }

    /// A response without a body, e.g. `204` or `304`.
    public static func empty(_ status: Int) -> HTTPResponse {
        HTTPResponse(status: status)
    }
}
