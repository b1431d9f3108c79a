import BatonCore
import BatonHTTP
import Foundation

/// The v1 route table (SPEC §4). `openapi.yaml` is held against `routeTable` by a test.
public enum APIRoutes {
    public static func router(_ context: APIContext) -> Router {
        let runs = RunsAPI(context: context)
        var router = Router()
        router.add("GET", "/healthz") { _, _ in
            // Degraded while the store cannot write (full disk): reads still work, but
            // nothing new can be recorded, which a load balancer should know.
            if let problem = context.store.writeProblem {
                return ProblemFactory.serviceUnavailable(
                    "degraded: the store cannot write: \(problem)", retryAfterSeconds: 30)
            }
            return .json(200, ["status": "ok"])
        }
        router.add("POST", "/v1/runs", runs.submit)
        router.add("GET", "/v1/runs", runs.list)
        router.add("GET", "/v1/runs/{id}", runs.get)
        router.add("POST", "/v1/runs/{id}/cancel", runs.cancel)
        router.add("POST", "/v1/runs/{id}/retry", runs.retry)
        router.add("GET", "/v1/runs/{id}/tasks/{task}/log", runs.log)
        router.add("GET", "/v1/runs/{id}/graph", runs.graph)
        router.add("GET", "/v1/runs/{id}/graph.svg", runs.graphSVG)
        router.add("GET", "/v1/runs/{id}/tasks", runs.tasks)
        router.add("GET", "/v1/runs/{id}/timeline", runs.timeline)
        if let nodes = context.nodes { router.add("GET", "/v1/nodes", NodesAPI(nodes: nodes).list) }
        let hooks = HooksAPI(context: context)
        router.add("POST", "/v1/hooks/{name}", hooks.receive)
        let workflows = WorkflowsAPI(context: context)
        router.add("GET", "/v1/workflows", workflows.list)
        router.add("PUT", "/v1/workflows/{name}", workflows.put)
        router.add("GET", "/v1/workflows/{name}", workflows.get)
        router.add("DELETE", "/v1/workflows/{name}", workflows.delete)
        router.add("POST", "/v1/workflows/{name}/runs", workflows.runNow)
        router.add("POST", "/v1/workflows/{name}/pause", workflows.pause)
        router.add("POST", "/v1/workflows/{name}/resume", workflows.resume)
        router.add("GET", "/v1/workflows/{name}/deliveries", hooks.deliveries)
        if let live = context.live {
            router.add("GET", "/v1/events", EventsAPI(live: live).stream)
            router.add("GET", "/metrics") { _, _ in
                .text(200, live.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            }
        }
        if context.console {
            let console = ConsoleAPI()
            router.add("GET", "/", console.serve)
            router.add("GET", "/ui/app.js", console.serve)
            router.add("GET", "/ui/app.css", console.serve)
        }
        return router
    }

    /// The whole request handler: authentication in front of the router.
    public static func handler(_ context: APIContext) -> @Sendable (HTTPRequest) -> HTTPResponse {
        let router = router(context)
        let authenticator = Authenticator(token: context.token, metricsPublic: context.metricsPublic)
        return { request in
            if let refusal = authenticator.refusal(for: request) { return refusal }
            return router.handle(request)
        }
    }

    /// Runs once the headers are in: refuses unauthenticated requests before their body is
    /// read, so a stranger cannot make the server buffer 16 MiB.
    public static func preflight(_ context: APIContext) -> @Sendable (HTTPRequest) -> HTTPResponse? {
        let authenticator = Authenticator(token: context.token, metricsPublic: context.metricsPublic)
        let hooks = HooksAPI(context: context)
        return { request in
            if let refusal = authenticator.refusal(for: request) { return refusal }
            return hooks.refusalBeforeBody(request)
        }
    }

    /// The body limit of a request when smaller than the server's: webhooks take at most
    /// `context.maxHookBodyBytes`.
    public static func bodyLimit(_ context: APIContext) -> @Sendable (HTTPRequest) -> Int? {
        { request in HooksAPI.isHookRequest(request) ? context.maxHookBodyBytes : nil }
    }
}
