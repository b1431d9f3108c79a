/// A route's handler: synchronous, run on a libmicrohttpd thread, so keep it short. It may
/// block briefly (a lock, SQLite) but must never wait on Swift concurrency.
///
/// Throw an ``HTTPResponseConvertible`` (``HTTPError``, ``Problem``) to answer with its
/// response; any other error answers `500` and is logged with the request id.
public typealias RouteHandler = @Sendable (HTTPRequest, RouteParameters) throws -> HTTPResponse

/// Maps method and path to a handler.
///
/// Templates like `/v1/runs/{id}/tasks/{task}/log` match percent-decoded path segments, so
/// `/v1/runs/x/tasks/a%2Fb/log` gives `task` = `a/b`. A path no template matches answers
/// `404`; a path that matches only with other methods answers `405` with `Allow`; both as
/// problem+json. Methods are matched exactly: `HEAD` is not derived from `GET` (it answers
/// `405` unless registered), so the route table is exactly what the server answers.
/// A trailing slash is significant: `/v1/runs/` does not match `/v1/runs`.
public struct Router: Sendable {
    private struct Route: Sendable {
        let method: String
        let template: RouteTemplate
        let handler: RouteHandler
    }

    private var routes: [Route] = []

    /// Creates an empty router.
    public init() {}

    /// Registers `handler` for `method` on `template`.
    ///
    /// A malformed template, or a second route with the same method and template shape
    /// (`/a/{x}` and `/a/{y}`), is a programming error and traps.
    public mutating func add(_ method: String, _ template: String, _ handler: @escaping RouteHandler) {
        let parsed = RouteTemplate(template)
        precondition(
            !routes.contains { $0.method == method && $0.template.shape == parsed.shape },
            "duplicate route \(method) \(template)")
        routes.append(Route(method: method, template: parsed, handler: handler))
    }

    /// Every registered route as `(method, template)`, in registration order; hold
    /// `openapi.yaml` against this.
    public var routeTable: [(method: String, template: String)] {
        routes.map { (method: $0.method, template: $0.template.text) }
    }

    /// Answers `request`: the matching route's response, or a `404`/`405` problem.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var best: (route: Route, parameters: [String: String])?
        var allowed: [String] = []
        // HEAD is answered like GET (RFC 9110 §9.3.2); the server sends no body for it.
        let method = request.method == "HEAD" ? "GET" : request.method
        for route in routes {
            guard let parameters = route.template.match(request.pathSegments) else { continue }
            if route.method == method {
                if best == nil || route.template.isMoreSpecific(than: best!.route.template) {
                    best = (route, parameters)
                }
            } else if !allowed.contains(route.method) {
                allowed.append(route.method)
                if route.method == "GET" { allowed.append("HEAD") }
            }
        }
        guard let (route, parameters) = best else {
            if allowed.isEmpty {
                return ProblemFactory.routeNotFound(method: request.method, path: request.path)
            }
            return ProblemFactory.methodNotAllowed(
                method: request.method, path: request.path, allowed: allowed)
        }
        var response: HTTPResponse
        do {
            response = try route.handler(request, RouteParameters(parameters))
        } catch let error as any HTTPResponseConvertible {
            response = error.response
        } catch {
            response = ProblemFactory.internalServerError(requestID: request.requestID)
            response.diagnostic =
                "\(route.method) \(route.template.text) threw \(type(of: error)): \(error)"
        }
        response.route = route.template.text
        return response
    }

    /// ``handle(_:)`` as a closure for ``HTTPServer``.
    public var handler: @Sendable (HTTPRequest) -> HTTPResponse {
        { [self] request in handle(request) }
    }
}
