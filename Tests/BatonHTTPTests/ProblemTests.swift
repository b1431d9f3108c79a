import Foundation
import Testing

@testable import BatonHTTP

@Suite struct ProblemTests {
    @Test func problemJSONHasExactlyTheContractKeys() throws {
        let response = HTTPResponse.problem(
            400, detail: "The spec is invalid.",
            errors: [ProblemField(path: "tasks[3].depends_on[0]", message: "unknown task \"x\"")])
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/problem+json")
        let object = try #require(JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        #expect(Set(object.keys) == ["type", "title", "status", "detail", "errors"])
        #expect(object["type"] as? String == "about:blank")
        #expect(object["title"] as? String == "Bad Request")
        #expect(object["status"] as? Int == 400)
        let errors = try #require(object["errors"] as? [[String: String]])
        #expect(errors == [["path": "tasks[3].depends_on[0]", "message": "unknown task \"x\""]])
    }

    @Test func detailWithQuotesAndNewlinesIsValidJSON() throws {
        let response = ProblemFactory.badRequest("a \"quoted\"\nline\\ and \u{1}")
        let problem = try JSONDecoder().decode(Problem.self, from: response.body)
        #expect(problem.detail == "a \"quoted\"\nline\\ and \u{1}")
        #expect(problem.errors.isEmpty)
    }

    @Test func factoryStatusesAndHeaders() throws {
        #expect(ProblemFactory.unauthorized().status == 401)
        #expect(ProblemFactory.unauthorized().header("WWW-Authenticate") == "Bearer")
        #expect(ProblemFactory.unauthenticated("bad signature").header("WWW-Authenticate") == nil)
        #expect(ProblemFactory.notFound("x").status == 404)
        let notAllowed = ProblemFactory.methodNotAllowed(method: "PUT", path: "/v1/runs", allowed: ["GET", "POST"])
        #expect(notAllowed.status == 405)
        #expect(notAllowed.header("allow") == "GET, POST")
        #expect(ProblemFactory.conflict("x").status == 409)
        #expect(ProblemFactory.contentTooLarge(limit: 10).status == 413)
        let unsupported = ProblemFactory.unsupportedMediaType("text/html", supported: ["application/json"])
        #expect(unsupported.status == 415)
        #expect(try JSONDecoder().decode(Problem.self, from: unsupported.body).title == "Unsupported Media Type")
        #expect(ProblemFactory.internalServerError(requestID: "abc").status == 500)
    }

    @Test func jsonHelperEncodesAndFallsBackTo500() throws {
        let ok = HTTPResponse.json(201, ["id": "r1"])
        #expect(ok.status == 201)
        #expect(ok.header("content-type") == "application/json")
        #expect(try JSONDecoder().decode([String: String].self, from: ok.body) == ["id": "r1"])
        let failed = HTTPResponse.json(200, ["x": Double.nan])
        #expect(failed.status == 500)
        #expect(failed.diagnostic != nil)
    }
}
