import BatonCore
import BatonHTTP
import Foundation

/// The v1 route table (SPEC §4). `openapi.yaml` is held against `routeTable` by a test.
public enum APIRoutes {
    public static func router(_ context: APIContext) -> Router {
        let runs = RunsAPI(context: context)
        var router = Router()
        router.add("GET", "/healthz") { _, _ in .json(200, ["status": "ok"]) }
        router.add("POST", "/v1/runs", runs.submit)
        router.add("GET", "/v1/runs", runs.list)
        router.add("GET", "/v1/runs/{id}", runs.get)
        router.add("POST", "/v1/runs/{id}/cancel", runs.cancel)
        router.add("POST", "/v1/runs/{id}/retry", runs.retry)
        router.add("GET", "/v1/runs/{id}/tasks/{task}/log", runs.log)
        router.add("GET", "/v1/runs/{id}/graph", runs.graph)
        router.add("POST", "/v1/hooks/{name}", HooksAPI(context: context).receive)
        let workflows = WorkflowsAPI(context: context)
        router.add("GET", "/v1/workflows", workflows.list)
        router.add("PUT", "/v1/workflows/{name}", workflows.put)
        router.add("GET", "/v1/workflows/{name}", workflows.get)
        router.add("DELETE", "/v1/workflows/{name}", workflows.delete)
        router.add("POST", "/v1/workflows/{name}/runs", workflows.runNow)
        router.add("POST", "/v1/workflows/{name}/pause", workflows.pause)
        router.add("POST", "/v1/workflows/{name}/resume", workflows.resume)
        return router
    }

    /// The whole request handler: authentication in front of the router.
    public static func handler(_ context: APIContext) -> @Sendable (HTTPRequest) -> HTTPResponse {
        let router = router(context)
        let authenticator = Authenticator(token: context.token)
        return { request in
            if let refusal = authenticator.refusal(for: request) { return refusal }
            return router.handle(request)
        }
    }

    /// Runs once the headers are in: refuses unauthenticated requests before their body is
    /// read, so a stranger cannot make the server buffer 16 MiB.
    public static func preflight(_ context: APIContext) -> @Sendable (HTTPRequest) -> HTTPResponse? {
        let authenticator = Authenticator(token: context.token)
        return { request in authenticator.refusal(for: request) }
    }
}
