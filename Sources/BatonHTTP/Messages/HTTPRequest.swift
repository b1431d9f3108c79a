import Foundation

/// A complete HTTP request as the server hands it to a handler: head and whole body.
public struct HTTPRequest: Sendable {
    /// The method as sent, e.g. `GET` (methods are case-sensitive, RFC 9110 §9.1).
    public var method: String
    /// The path exactly as received, still percent-encoded, without the query.
    public var path: String
    /// The path split on `/` and percent-decoded per segment: `/v1/runs/x/tasks/a%2Fb/log`
    /// gives `["v1", "runs", "x", "tasks", "a/b", "log"]`; `/` gives `[]`.
    public var pathSegments: [String]
    /// Query parameters, percent-decoded (`+` is a space); the first value of a repeated key
    /// wins, and a key without `=` has the value `""`.
    public var query: [String: String]
    /// The request headers, looked up case-insensitively.
    public var headers: HTTPHeaders
    /// The request body (empty when none was sent).
    public var body: Data
    /// An identifier for this request, also sent back as `X-Request-Id` and logged.
    public var requestID: String

    /// Creates a request from a raw (percent-encoded) path; decodes the segments.
    ///
    /// - Throws: ``RequestTargetError`` when the path is not origin-form, has a malformed
    ///   `%` escape, or does not decode to UTF-8.
    public init(
        method: String,
        path: String,
        query: [String: String] = [:],
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data = Data(),
        requestID: String = HTTPRequest.makeRequestID()
    ) throws(RequestTargetError) {
        self.method = method
        self.path = path
        self.pathSegments = try PercentDecoding.segments(ofPath: path)
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    /// Creates a request from a raw request target such as `/v1/runs?limit=5&status=failed`,
    /// decoding the path segments and the query. Handy in tests of handlers and routers.
    ///
    /// - Throws: ``RequestTargetError`` as ``init(method:path:query:headers:body:requestID:)``,
    ///   or for a malformed query.
    public init(
        method: String,
        target: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data = Data(),
        requestID: String = HTTPRequest.makeRequestID()
    ) throws(RequestTargetError) {
        let path: Substring
        var query: [String: String] = [:]
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = try PercentDecoding.query(target[target.index(after: mark)...])
        } else {
            path = target[...]
        }
        try self.init(
            method: method, path: String(path), query: query, headers: headers, body: body,
            requestID: requestID)
    }

    /// A fresh random request identifier: 16 lowercase hexadecimal digits.
    public static func makeRequestID() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
