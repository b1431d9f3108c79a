import Foundation
import Testing

@testable import BatonHTTP

@Suite struct RequestParsingTests {
    @Test func pathSegmentsAreDecodedPerSegment() throws {
        let request = try HTTPRequest(method: "GET", path: "/v1/runs/x/tasks/a%2Fb%20c/log")
        #expect(request.path == "/v1/runs/x/tasks/a%2Fb%20c/log")
        #expect(request.pathSegments == ["v1", "runs", "x", "tasks", "a/b c", "log"])
        #expect(try HTTPRequest(method: "GET", path: "/").pathSegments == [])
        #expect(try HTTPRequest(method: "GET", path: "/a/").pathSegments == ["a", ""])
    }

    @Test func invalidTargetsAreRejected() {
        #expect(throws: RequestTargetError.invalidPercentEncoding) {
            try HTTPRequest(method: "GET", path: "/a%zz")
        }
        #expect(throws: RequestTargetError.invalidPercentEncoding) {
            try HTTPRequest(method: "GET", path: "/a%2")
        }
        #expect(throws: RequestTargetError.invalidUTF8) {
            try HTTPRequest(method: "GET", path: "/a%FF")
        }
        #expect(throws: RequestTargetError.invalidUTF8) {
            try HTTPRequest(method: "GET", path: "/%C3")  // truncated sequence
        }
        #expect(throws: RequestTargetError.notOriginForm) {
            try HTTPRequest(method: "GET", path: "http://example.com/")
        }
        #expect(throws: RequestTargetError.invalidPercentEncoding) {
            try HTTPRequest(method: "GET", target: "/q?a=%")
        }
    }

    @Test func queryFirstValueWinsAndPlusIsSpace() throws {
        let request = try HTTPRequest(
            method: "GET", target: "/q?a=1&b=hello%20world&a=2&c=x+y&d=%2B&flag&empty=&%C3%A9=%C3%A9")
        #expect(request.path == "/q")
        #expect(
            request.query == [
                "a": "1", "b": "hello world", "c": "x y", "d": "+", "flag": "", "empty": "", "é": "é",
            ])
    }

    @Test func headersAreCaseInsensitiveAndKeepEveryValue() {
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("X-Thing", "1")])
        headers.append(name: "x-thing", value: "2")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["CONTENT-TYPE"] == "application/json")
        #expect(headers["X-THING"] == "1")
        #expect(headers.values(for: "x-Thing") == ["1", "2"])
        #expect(headers["missing"] == nil)
    }

    @Test func requestIDsAreSixteenHexDigits() {
        let id = HTTPRequest.makeRequestID()
        #expect(id.count == 16)
        #expect(id.allSatisfy { $0.isHexDigit })
        #expect(id != HTTPRequest.makeRequestID())
    }
}
