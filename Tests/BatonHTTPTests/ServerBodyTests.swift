import BatonHTTP
import Foundation
import Testing

extension ServerTests {
    /// Request bodies: accumulation across callbacks and the size limit.
    @Suite struct Bodies {
        static let seventeenMiB = 17 * 1024 * 1024

        /// Deterministic, non-repeating-looking bytes.
        static func pattern(_ count: Int) -> Data {
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            var bytes = [UInt8](repeating: 0, count: count)
            for index in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes[index] = UInt8(truncatingIfNeeded: state >> 56)
            }
            return Data(bytes)
        }

        @Test func oneMebibyteBodyArrivesIntactAcrossManyCallbacks() throws {
            let body = Self.pattern(1024 * 1024)
            try withServer { _, port in
                // Sent in 7,000-byte writes with a few pauses, so it reaches the server in
                // many pieces (libmicrohttpd's read buffer is far smaller than 1 MiB anyway).
                let connection = try RawHTTPConnection(port: port)
                try connection.send(
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
                var offset = 0
                while offset < body.count {
                    let end = min(offset + 7000, body.count)
                    try connection.send(body[offset..<end])
                    if offset % 140_000 == 0 { usleep(2000) }
                    offset = end
                }
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(response.body.count == body.count)
                #expect(response.body == body)
            }
        }

        @Test func formEncodedBodyIsPassedThroughRaw() throws {
            // Webhook senders may post application/x-www-form-urlencoded; libmicrohttpd must
            // hand it over as bytes, not parse it.
            try withServer { _, port in
                let body = Data("payload=%7B%22a%22%3A1%7D&x=y+z".utf8)
                let response = try RawHTTPConnection.request(
                    port: port, "POST", "/echo",
                    headers: [("Content-Type", "application/x-www-form-urlencoded")], body: body)
                #expect(response.body == body)
            }
        }

        @Test func chunkedBodyArrivesIntact() throws {
            let body = Self.pattern(300_000)
            try withServer { _, port in
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                var offset = 0
                while offset < body.count {
                    let end = min(offset + 12_345, body.count)
                    try connection.send(
                        Data(String(end - offset, radix: 16).utf8) + Data("\r\n".utf8) + body[offset..<end]
                            + Data("\r\n".utf8))
                    offset = end
                }
                try connection.send("0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(response.body == body)
            }
        }

        @Test func oversizedContentLengthIs413BeforeTheBodyIsSent() throws {
            try withServer { _, port in
                let connection = try RawHTTPConnection(port: port)
                // Headers only: the server must answer without waiting for 17 MiB.
                try connection.send(
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.seventeenMiB)\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 413)
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(try response.json()["status"] as? Int == 413)
                #expect(connection.waitForClose())
                // The server still answers.
                #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").text == "hello")
            }
        }

        @Test func seventeenMebibyteUploadIs413AndServerStillAnswers() throws {
            let body = Data(count: Self.seventeenMiB)
            try withServer { _, port in
                let connection = try RawHTTPConnection(port: port)
                try connection.send(
                    "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                )
                // Keep uploading on another thread the way a real client would; the server
                // answers early and closes, so the upload is expected to fail part-way.
                let fd = connection.fd
                let uploader = Thread { try? RawHTTPConnection.send(body, to: fd) }
                uploader.start()
                let response = try connection.readResponse()
                #expect(response.status == 413)
                #expect(
                    try response.json()["detail"] as? String == "The request body exceeds the limit of 16777216 bytes.")
                #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").status == 200)
            }
        }

        @Test func chunkedUploadOverTheLimitIs413WithoutBuffering() throws {
            try withServer(HTTPServerConfiguration(maxBodyBytes: 100_000)) { _, port in
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = Data(count: 16_384)
                for _ in 0..<10 {  // 160 KiB: over the limit, within the discard allowance
                    try connection.send(Data("4000\r\n".utf8) + chunk + Data("\r\n".utf8))
                }
                try connection.send("0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 413)
                #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").status == 200)
            }
        }

        @Test func endlessChunkedUploadIsCutOff() throws {
            try withServer(HTTPServerConfiguration(maxBodyBytes: 10_000)) { _, port in
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = Data(Data("4000\r\n".utf8) + Data(count: 16_384) + Data("\r\n".utf8))
                var cutOff = false
                for _ in 0..<1000 {  // up to 16 MiB; the server drops the connection long before
                    do { try connection.send(chunk) } catch {
                        cutOff = true
                        break
                    }
                }
                #expect(cutOff || connection.waitForClose())
                #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").status == 200)
            }
        }

        @Test func bodyExactlyAtTheLimitIsAccepted() throws {
            try withServer(HTTPServerConfiguration(maxBodyBytes: 1000)) { _, port in
                let exact = try RawHTTPConnection.request(port: port, "POST", "/echo", body: Self.pattern(1000))
                #expect(exact.status == 200)
                #expect(exact.body == Self.pattern(1000))
                let over = try RawHTTPConnection.request(port: port, "POST", "/echo", body: Self.pattern(1001))
                #expect(over.status == 413)
            }
        }

        @Test func preflightAnswersBeforeTheBody() throws {
            let preflight: @Sendable (HTTPRequest) -> HTTPResponse? = { request in
                request.headers["Authorization"] == "Bearer good" ? nil : ProblemFactory.unauthorized()
            }
            try withServer(preflight: preflight) { _, port in
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
                let refused = try connection.readResponse()
                #expect(refused.status == 401)
                #expect(refused.header("WWW-Authenticate") == "Bearer")
                let allowed = try RawHTTPConnection.request(
                    port: port, "POST", "/echo", headers: [("authorization", "Bearer good")], body: Data("hi".utf8))
                #expect(allowed.text == "hi")
            }
        }
    }
}
