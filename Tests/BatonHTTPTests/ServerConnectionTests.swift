import BatonHTTP
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ServerTests {
    /// Many, slow and stalled connections.
    @Suite struct Connections {
        /// Polls `condition` every 10 ms until it holds or `timeout` passes.
        private func eventually(within timeout: Duration, _ condition: () -> Bool) -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if condition() { return true }
                usleep(10_000)
            }
            return condition()
        }

        @Test(arguments: [1, 2])
        func stalledClientsDoNotBlockOthers(threads: Int) throws {
            try withServer(HTTPServerConfiguration(threads: threads)) { _, port in
                // Half a request line and headers, then silence.
                let stalledHead = try RawHTTPConnection(port: port)
                try stalledHead.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Half")
                // Complete headers, a tenth of the promised body, then silence.
                let stalledBody = try RawHTTPConnection(port: port)
                try stalledBody.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")

                let started = ContinuousClock.now
                for _ in 0..<20 {
                    #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").text == "hello")
                }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(2), "20 requests beside two stalled clients took \(elapsed)")

                // The stalled ones are still waiting, unanswered.
                stalledHead.setReadTimeout(.milliseconds(100))
                #expect(throws: RawHTTPError.self) { try stalledHead.readResponse() }
            }
        }

        @Test func stalledClientIsDisconnectedAfterTheTimeout() throws {
            try withServer(HTTPServerConfiguration(connectionTimeoutSeconds: 1)) { server, port in
                let stalled = try RawHTTPConnection(port: port, readTimeout: .seconds(10))
                try stalled.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
                let started = ContinuousClock.now
                #expect(stalled.waitForClose())
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(5), "a stalled client held its connection for \(elapsed)")
                #expect(eventually(within: .seconds(2)) { server.connectionCount == 0 })
            }
        }

        @Test func twoHundredConcurrentConnectionsAreAllAnswered() throws {
            try holdAndAnswer(connections: 200)
        }

        @Test func aThousandConcurrentConnectionsAreAllAnswered() throws {
            try holdAndAnswer(connections: 1000)
        }

        /// Opens `count` connections at once, checks the server holds them all, then sends a
        /// request on each and reads every answer.
        private func holdAndAnswer(connections count: Int) throws {
            try withServer { server, port in
                var connections: [RawHTTPConnection] = []
                for _ in 0..<count {
                    connections.append(try RawHTTPConnection(port: port))
                }
                #expect(
                    eventually(within: .seconds(5)) { server.connectionCount == count },
                    "server holds \(server.connectionCount) of \(count) connections")
                for (index, connection) in connections.enumerated() {
                    try connection.sendRequest("GET", "/v1/runs/c\(index)")
                }
                for (index, connection) in connections.enumerated() {
                    let response: RawResponse
                    do { response = try connection.readResponse() } catch {
                        Issue.record(
                            "connection \(index) of \(count): \(error); server holds \(server.connectionCount)")
                        throw error
                    }
                    #expect(response.status == 200)
                    #expect(try response.json()["id"] as? String == "c\(index)")
                }
            }
        }

        @Test func stopIsIdempotentAndRefusesNewConnections() throws {
            let server = HTTPServer(
                configuration: HTTPServerConfiguration(port: 0), logger: silentLogger,
                handler: TestRoutes.router.handler)
            server.stop()  // before start: nothing to do
            let (host, port) = try server.start()
            defer { server.stop() }
            #expect(host == "127.0.0.1")
            #expect(port > 0)
            #expect(server.isRunning)
            #expect(throws: HTTPServerError.alreadyRunning) { try server.start() }
            #expect(try RawHTTPConnection.request(port: port, "GET", "/hello").status == 200)
            server.stop()
            server.stop()
            #expect(!server.isRunning)
            #expect(throws: RawHTTPError.self) { try RawHTTPConnection(port: port) }
        }

        @Test func stopWithGracePeriodLetsAnInFlightRequestFinish() throws {
            let inHandler = DispatchSemaphore(value: 0)
            let handler: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
                inHandler.signal()
                usleep(300_000)  // a slow handler, not synchronisation
                return .text(200, "slow")
            }
            let server = HTTPServer(
                configuration: HTTPServerConfiguration(port: 0), logger: silentLogger, handler: handler)
            let (_, port) = try server.start()
            defer { server.stop() }
            let connection = try RawHTTPConnection(port: port)
            try connection.sendRequest("GET", "/slow", headers: [("Connection", "close")])
            #expect(inHandler.wait(timeout: .now() + 10) == .success, "the request reached the handler")
            server.stop(gracePeriod: .seconds(5))
            #expect(try connection.readResponse().text == "slow")
        }

        @Test func portInUseFailsToStartWithAReason() throws {
            try withServer { _, port in
                let second = HTTPServer(
                    configuration: HTTPServerConfiguration(port: port), logger: silentLogger,
                    handler: { _ in .empty(204) })
                defer { second.stop() }
                #expect {
                    try second.start()
                } throws: { error in
                    guard case .startFailed(let reason) = error as? HTTPServerError else { return false }
                    return reason.contains("127.0.0.1:\(port)") && reason.contains("in use")
                }
            }
        }

        @Test func invalidHostOrConfigurationIsRefused() {
            let badHost = HTTPServer(
                configuration: HTTPServerConfiguration(host: "example.com", port: 0), logger: silentLogger,
                handler: { _ in .empty(204) })
            #expect(throws: HTTPServerError.invalidHost("example.com")) { try badHost.start() }
            let badThreads = HTTPServer(
                configuration: HTTPServerConfiguration(port: 0, threads: 0), logger: silentLogger,
                handler: { _ in .empty(204) })
            #expect(throws: HTTPServerError.self) { try badThreads.start() }
        }

        @Test(.enabled(if: Self.ipv6LoopbackAvailable()))
        func servesOnIPv6Loopback() throws {
            let server = HTTPServer(
                configuration: HTTPServerConfiguration(host: "::1", port: 0), logger: silentLogger,
                handler: TestRoutes.router.handler)
            let (_, port) = try server.start()
            defer { server.stop() }
            let connection = try RawHTTPConnection(host: "::1", port: port)
            try connection.sendRequest("GET", "/hello")
            #expect(try connection.readResponse().text == "hello")
        }

        static func ipv6LoopbackAvailable() -> Bool {
            let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                }
            }
        }
    }
}
