import BatonHTTP
import Foundation
import Logging
import Testing

extension ServerTests {
    /// The one log line per request, and what must never be in it.
    @Suite struct Logging {
        private func requestRecords(_ capture: LogCapture, count: Int) -> [LogCapture.Record] {
            let deadline = ContinuousClock.now + .seconds(5)
            // The line is written when libmicrohttpd reports the request complete, just after
            // the response went out, so wait for it briefly.
            while ContinuousClock.now < deadline {
                let records = capture.records.filter { $0.message == "request" }
                if records.count >= count { return records }
                usleep(10_000)
            }
            return capture.records.filter { $0.message == "request" }
        }

        @Test func oneStructuredLinePerRequestWithoutSecrets() throws {
            let capture = LogCapture()
            try withServer(logger: capture.logger) { _, port in
                let response = try RawHTTPConnection.request(
                    port: port, "POST", "/v1/runs?token=s3cr3t-query",
                    headers: [("Authorization", "Bearer s3cr3t-token"), ("Cookie", "s3cr3t-cookie")],
                    body: Data("s3cr3t-body".utf8))
                #expect(response.status == 201)
                let requestID = try #require(response.header("X-Request-Id"))

                let records = requestRecords(capture, count: 1)
                #expect(records.count == 1)
                let line = try #require(records.first)
                #expect(line.level == .info)
                #expect(line.metadata["method"] == "POST")
                #expect(line.metadata["path"] == "/v1/runs")
                #expect(line.metadata["status"] == "201")
                #expect(line.metadata["request_id"] == "\(requestID)")
                #expect(Double("\(line.metadata["duration_ms"] ?? "")") != nil)
            }
            for record in capture.records {
                let text = "\(record.message) \(record.metadata)"
                #expect(!text.contains("s3cr3t"), "a secret reached the log: \(text)")
            }
        }

        @Test func unexpectedErrorIsLoggedWithTheRequestID() throws {
            let capture = LogCapture()
            try withServer(logger: capture.logger) { _, port in
                let response = try RawHTTPConnection.request(port: port, "GET", "/boom")
                #expect(response.status == 500)
                let requestID = try #require(response.header("X-Request-Id"))
                let line = try #require(requestRecords(capture, count: 1).first)
                #expect(line.level == .error)
                #expect(line.metadata["request_id"] == "\(requestID)")
                #expect("\(line.metadata["diagnostic"] ?? "")".contains("kaboom"))
            }
        }

        @Test func abortedUploadIsLoggedWithItsTermination() throws {
            let capture = LogCapture()
            try withServer(logger: capture.logger) { _, port in
                do {
                    let connection = try RawHTTPConnection(port: port)
                    // libmicrohttpd answers `100 Continue` once the server has taken the
                    // request: then closing mid-body is certainly an aborted upload.
                    try connection.send(
                        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
                    #expect(try connection.readResponse().status == 100)
                    try connection.send("abc")
                }  // closed mid-body
                let line = try #require(requestRecords(capture, count: 1).first)
                #expect(line.metadata["status"] == "none")
                #expect(line.metadata["termination"] != nil)
            }
        }
    }
}
