import Foundation
import Testing

@testable import BatonHTTP

/// The router on its own: no server, requests built from targets.
@Suite struct RouterTests {
    private func request(_ method: String, _ target: String) throws -> HTTPRequest {
        try HTTPRequest(method: method, target: target, requestID: "test")
    }

    private func problem(_ response: HTTPResponse) throws -> Problem {
        #expect(response.header("content-type") == "application/problem+json")
        return try JSONDecoder().decode(Problem.self, from: response.body)
    }

    @Test func matchesParametersOnDecodedSegments() throws {
        var router = Router()
        router.add("GET", "/v1/runs/{id}/tasks/{task}/log") { _, parameters in
            .text(200, "\(parameters["id"]!)|\(parameters["task"]!)")
        }
        let slash = router.handle(try request("GET", "/v1/runs/r1/tasks/a%2Fb/log"))
        #expect(String(decoding: slash.body, as: UTF8.self) == "r1|a/b")
        let space = router.handle(try request("GET", "/v1/runs/r1/tasks/build%20it/log"))
        #expect(String(decoding: space.body, as: UTF8.self) == "r1|build it")
        let unicode = router.handle(try request("GET", "/v1/runs/r1/tasks/caf%C3%A9/log"))
        #expect(String(decoding: unicode.body, as: UTF8.self) == "r1|café")
    }

    @Test func unknownPathIsNotFoundProblem() throws {
        var router = Router()
        router.add("GET", "/v1/runs") { _, _ in .empty(200) }
        let response = router.handle(try request("GET", "/v1/nothing"))
        #expect(response.status == 404)
        #expect(try problem(response).status == 404)
        // A trailing slash is a different path.
        #expect(router.handle(try request("GET", "/v1/runs/")).status == 404)
        // A parameter never matches an empty segment.
        router.add("GET", "/v1/runs/{id}") { _, _ in .empty(200) }
        #expect(router.handle(try request("GET", "/v1/runs/")).status == 404)
    }

    @Test func wrongMethodIsMethodNotAllowedWithAllow() throws {
        var router = Router()
        router.add("GET", "/v1/runs") { _, _ in .empty(200) }
        router.add("POST", "/v1/runs") { _, _ in .empty(201) }
        router.add("DELETE", "/v1/workflows/{name}") { _, _ in .empty(204) }
        let response = router.handle(try request("PUT", "/v1/runs"))
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, HEAD, POST")
        #expect(try problem(response).status == 405)
        // HEAD is answered like GET (the server drops the body).
        #expect(router.handle(try request("HEAD", "/v1/runs")).status == 200)
        #expect(router.handle(try request("HEAD", "/v1/workflows/x")).status == 405)
        #expect(router.handle(try request("GET", "/v1/workflows/x")).header("allow") == "DELETE")
    }

    @Test func literalSegmentsBeatParameters() throws {
        var router = Router()
        router.add("GET", "/v1/runs/{id}") { _, parameters in .text(200, "id=\(parameters["id"]!)") }
        router.add("GET", "/v1/runs/latest") { _, _ in .text(200, "latest") }
        #expect(String(decoding: router.handle(try request("GET", "/v1/runs/latest")).body, as: UTF8.self) == "latest")
        #expect(String(decoding: router.handle(try request("GET", "/v1/runs/x")).body, as: UTF8.self) == "id=x")
    }

    @Test func routeTableListsRoutesInOrder() {
        var router = Router()
        router.add("GET", "/healthz") { _, _ in .empty(200) }
        router.add("POST", "/v1/runs") { _, _ in .empty(201) }
        router.add("GET", "/v1/runs/{id}") { _, _ in .empty(200) }
        #expect(
            router.routeTable.map { "\($0.method) \($0.template)" } == [
                "GET /healthz", "POST /v1/runs", "GET /v1/runs/{id}",
            ])
    }

    @Test func thrownResponseErrorsAnswerAndOthersAre500() throws {
        struct Unexpected: Error {}
        var router = Router()
        router.add("GET", "/conflict") { _, _ in throw HTTPError(ProblemFactory.conflict("The run has ended.")) }
        router.add("GET", "/problem") { _, _ in throw Problem(status: 422, detail: "nope") }
        router.add("GET", "/crash") { _, _ in throw Unexpected() }
        #expect(router.handle(try request("GET", "/conflict")).status == 409)
        #expect(router.handle(try request("GET", "/problem")).status == 422)
        let crash = router.handle(try request("GET", "/crash"))
        #expect(crash.status == 500)
        #expect(try problem(crash).detail.contains("test"))  // the request id
        #expect(crash.diagnostic?.contains("Unexpected") == true)
    }

    @Test func templateShapes() {
        let template = RouteTemplate("/v1/runs/{id}/tasks/{task}/log")
        #expect(template.shape == "/v1/runs/{}/tasks/{}/log")
        #expect(template.match(["v1", "runs", "a", "tasks", "b", "log"]) == ["id": "a", "task": "b"])
        #expect(template.match(["v1", "runs", "a", "tasks", "b"]) == nil)
        #expect(RouteTemplate("/").match([]) == [:])
    }
}
