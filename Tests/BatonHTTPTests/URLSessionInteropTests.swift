import BatonHTTP
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension ServerTests {
    /// A stock HTTP client (URLSession, libcurl underneath on Linux) against the server.
    @Suite struct URLSessionInterop {
        @Test func urlSessionRoundTrips() async throws {
            let server = HTTPServer(
                configuration: HTTPServerConfiguration(port: 0), logger: silentLogger,
                handler: TestRoutes.router.handler)
            let (_, port) = try server.start()
            defer { server.stop() }
            let base = "http://127.0.0.1:\(port)"

            var post = URLRequest(url: URL(string: "\(base)/v1/runs")!)
            post.httpMethod = "POST"
            post.setValue("application/json", forHTTPHeaderField: "Content-Type")
            post.httpBody = Data(#"{"name":"demo"}"#.utf8)
            let (created, createdResponse) = try await URLSession.shared.data(for: post)
            #expect((createdResponse as? HTTPURLResponse)?.statusCode == 201)
            #expect(try JSONDecoder().decode([String: Int].self, from: created) == ["received": 15])

            let (log, logResponse) = try await URLSession.shared.data(
                from: URL(string: "\(base)/v1/runs/r1/tasks/a%2Fb/log")!)
            #expect((logResponse as? HTTPURLResponse)?.statusCode == 200)
            #expect(try JSONDecoder().decode([String: String].self, from: log)["task"] == "a/b")

            let (missing, missingResponse) = try await URLSession.shared.data(from: URL(string: "\(base)/nope")!)
            let http = try #require(missingResponse as? HTTPURLResponse)
            #expect(http.statusCode == 404)
            #expect(http.value(forHTTPHeaderField: "content-type") == "application/problem+json")
            #expect(try JSONDecoder().decode(Problem.self, from: missing).status == 404)
        }
    }
}
