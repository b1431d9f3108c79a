import BatonHTTP
import Foundation
import Testing

extension ServerTests {
    /// Regression: libmicrohttpd 0.9.75's epoll loop drains events in rounds of 128
    /// (MAX_EVENTS) and, after a full round, waits again with the timeout it computed before
    /// the round — up to the connection timeout — while the connections it just found ready
    /// sit unprocessed. A burst of exactly 128 ready requests then stalled until some other
    /// event arrived. The server uses poll() instead; this burst must be answered at once.
    @Suite struct Bursts {
        @Test(arguments: [127, 128, 129, 256])
        func burstOfReadyConnectionsIsAnsweredPromptly(burst: Int) throws {
            let slowStarted = DispatchSemaphore(value: 0)
            let handler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
                if request.path == "/slow" {
                    slowStarted.signal()
                    usleep(300_000)  // holds the only worker, not synchronisation
                }
                return .text(200, request.path)
            }
            try withServer(HTTPServerConfiguration(threads: 1), handler: handler) { server, port in
                let blocker = try RawHTTPConnection(port: port)
                var connections: [RawHTTPConnection] = []
                for _ in 0..<burst { connections.append(try RawHTTPConnection(port: port, readTimeout: .seconds(5))) }
                let deadline = ContinuousClock.now + .seconds(5)
                while server.connectionCount < burst + 1 && ContinuousClock.now < deadline { usleep(5_000) }
                // Occupy the only worker thread, and let the burst pile up meanwhile.
                try blocker.sendRequest("GET", "/slow")
                #expect(slowStarted.wait(timeout: .now() + 10) == .success, "the worker is busy")
                for (index, connection) in connections.enumerated() {
                    try connection.sendRequest("GET", "/r\(index)")
                }
                #expect(try blocker.readResponse().text == "/slow")
                let started = ContinuousClock.now
                for (index, connection) in connections.enumerated() {
                    let response: RawResponse
                    do { response = try connection.readResponse() } catch {
                        Issue.record("connection \(index) of \(burst) unanswered: \(error)")
                        return
                    }
                    #expect(response.text == "/r\(index)")
                }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(2), "a burst of \(burst) took \(elapsed)")
            }
        }
    }
}
