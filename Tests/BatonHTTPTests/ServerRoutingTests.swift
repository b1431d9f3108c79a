import BatonHTTP
import Foundation
import Testing

extension ServerTests {
    /// Routing, decoding and problem rendering through real HTTP.
    @Suite struct Routing {
        @Test func routesWithParametersIncludingEncodedTaskNames() throws {
            try withServer { _, port in
                let slash = try RawHTTPConnection.request(port: port, "GET", "/v1/runs/r1/tasks/a%2Fb/log")
                #expect(slash.status == 200)
                let object = try slash.json()
                #expect(object["id"] as? String == "r1")
                #expect(object["task"] as? String == "a/b")
                #expect(object["raw"] as? String == "/v1/runs/r1/tasks/a%2Fb/log")

                let spaced = try RawHTTPConnection.request(port: port, "GET", "/v1/runs/r1/tasks/unit%20tests/log")
                #expect(try spaced.json()["task"] as? String == "unit tests")

                let accented = try RawHTTPConnection.request(port: port, "GET", "/v1/runs/r%C3%A9/tasks/t/log")
                #expect(try accented.json()["id"] as? String == "ré")
            }
        }

        @Test func unknownPathIs404ProblemJSON() throws {
            try withServer { _, port in
                let response = try RawHTTPConnection.request(port: port, "GET", "/nowhere")
                #expect(response.status == 404)
                #expect(response.header("Content-Type") == "application/problem+json")
                let problem = try response.json()
                #expect(problem["status"] as? Int == 404)
                #expect(problem["title"] as? String == "Not Found")
                #expect(problem["errors"] as? [Any] != nil)
            }
        }

        @Test func wrongMethodIs405WithAllow() throws {
            try withServer { _, port in
                let response = try RawHTTPConnection.request(port: port, "DELETE", "/v1/runs")
                #expect(response.status == 405)
                #expect(response.header("Allow") == "GET, HEAD, POST")
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(try response.json()["status"] as? Int == 405)
            }
        }

        @Test func queryIsDecodedAndFirstValueWins() throws {
            try withServer { _, port in
                let response = try RawHTTPConnection.request(
                    port: port, "GET", "/echo/query?a=1&b=hello%20world&a=2&c=x+y&d=%2B%26&flag&empty=")
                #expect(response.status == 200)
                let query = try response.json() as? [String: String]
                #expect(query == ["a": "1", "b": "hello world", "c": "x y", "d": "+&", "flag": "", "empty": ""])
            }
        }

        @Test func headersAreCaseInsensitive() throws {
            try withServer { _, port in
                let response = try RawHTTPConnection.request(
                    port: port, "GET", "/echo/header/x-mixed-CASE", headers: [("X-Mixed-Case", "Value 1")])
                #expect(response.text == "Value 1")
            }
        }

        @Test func malformedTargetsAre400Problems() throws {
            try withServer { _, port in
                for target in ["/v1/runs/%zz", "/v1/runs/%FF", "/v1/runs/%C3", "/echo/query?a=%G1"] {
                    let response = try RawHTTPConnection.request(port: port, "GET", target)
                    #expect(response.status == 400, "\(target)")
                    #expect(response.header("Content-Type") == "application/problem+json")
                }
                // Raw (unencoded) bytes that are not UTF-8.
                let connection = try RawHTTPConnection(port: port)
                try connection.send(
                    Data("GET /v1/runs/".utf8) + Data([0xFF, 0xFE]) + Data(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                let raw = try connection.readResponse()
                #expect(raw.status == 400)
                #expect(raw.header("Content-Type") == "application/problem+json")
            }
        }

        @Test func throwingHandlerIs500WithRequestIDAndServerCarriesOn() throws {
            try withServer { _, port in
                let response = try RawHTTPConnection.request(port: port, "GET", "/boom")
                #expect(response.status == 500)
                let requestID = try #require(response.header("X-Request-Id"))
                #expect((try response.json()["detail"] as? String)?.contains(requestID) == true)
                #expect(try RawHTTPConnection.request(port: port, "GET", "/gone").status == 404)
                #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").text == "hello")
            }
        }

        @Test func invalidStatusOrHeaderFromHandlerDoesNotBreakTheServer() throws {
            let handler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
                switch request.path {
                case "/bad-status": HTTPResponse(status: 42)
                default: HTTPResponse.text(200, "ok").withHeader("X-Evil", "a\r\nSet-Cookie: x=1")
                }
            }
            try withServer(handler: handler) { _, port in
                #expect(try RawHTTPConnection.request(port: port, "GET", "/bad-status").status == 500)
                let response = try RawHTTPConnection.request(port: port, "GET", "/header")
                #expect(response.status == 200)
                #expect(response.header("Set-Cookie") == nil)
                #expect(response.header("X-Evil") == nil)
            }
        }

        @Test func bodilessStatusesKeepTheConnectionInSync() throws {
            let handler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
                switch request.path {
                case "/204": .empty(204)
                case "/304": HTTPResponse(status: 304, headers: [("ETag", "\"v1\"")])
                default: .text(200, "after")
                }
            }
            try withServer(handler: handler) { _, port in
                let connection = try RawHTTPConnection(port: port)
                for path in ["/204", "/304"] {
                    try connection.sendRequest("GET", path)
                    let response = try connection.readResponse()
                    #expect(response.status == Int(path.dropFirst()))
                    #expect(response.body.isEmpty)
                    try connection.sendRequest("GET", "/next")
                    #expect(try connection.readResponse().text == "after")
                }
                try connection.sendRequest("GET", "/304")
                #expect(try connection.readResponse().header("ETag") == "\"v1\"")
            }
        }

        @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
            try withServer { _, port in
                let connection = try RawHTTPConnection(port: port)
                for index in 0..<5 {
                    try connection.sendRequest("GET", "/v1/runs/\(index)")
                    let response = try connection.readResponse()
                    #expect(try response.json()["id"] as? String == "\(index)")
                }
            }
        }
    }
}
