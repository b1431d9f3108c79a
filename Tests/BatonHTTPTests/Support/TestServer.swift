import BatonHTTP
import Foundation
import Logging

/// Runs `body` against a real server on 127.0.0.1 with a port picked by the kernel, and
/// stops the server afterwards whether `body` succeeds or throws.
func withServer<R>(
    _ configuration: HTTPServerConfiguration = HTTPServerConfiguration(port: 0),
    logger: Logger = silentLogger,
    preflight: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil,
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse = TestRoutes.router.handler,
    _ body: (_ server: HTTPServer, _ port: Int) throws -> R
) throws -> R {
    var configuration = configuration
    configuration.port = 0
    let server = HTTPServer(
        configuration: configuration, logger: logger, preflight: preflight, handler: handler)
    let (_, port) = try server.start()
    defer { server.stop() }
    return try body(server, port)
}

/// A logger that drops everything, so test output stays readable.
let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

struct TestFailure: Error, CustomStringConvertible {
    var description: String
}

/// The routes the server tests talk to.
enum TestRoutes {
    static let router: Router = {
        var router = Router()
        router.add("GET", "/hello") { _, _ in .text(200, "hello") }
        router.add("GET", "/v1/runs") { _, _ in .json(200, ["runs": [String]()]) }
        router.add("POST", "/v1/runs") { request, _ in
            .json(201, ["received": request.body.count])
        }
        router.add("GET", "/v1/runs/{id}") { _, parameters in
            .json(200, ["id": parameters["id"]])
        }
        router.add("GET", "/v1/runs/{id}/tasks/{task}/log") { request, parameters in
            .json(200, ["id": parameters["id"], "task": parameters["task"], "raw": request.path])
        }
        router.add("GET", "/echo/query") { request, _ in .json(200, request.query) }
        router.add("GET", "/echo/header/{name}") { request, parameters in
            .text(200, request.headers[parameters["name"] ?? ""] ?? "<none>")
        }
        router.add("POST", "/echo") { request, _ in
            HTTPResponse(
                status: 200, headers: [("Content-Type", "application/octet-stream")],
                body: request.body)
        }
        router.add("GET", "/boom") { _, _ in throw TestFailure(description: "kaboom") }
        router.add("GET", "/gone") { _, _ in throw HTTPError(ProblemFactory.notFound("It went away.")) }
        return router
    }()
}

/// Log records kept in memory, to check what the server logs.
final class LogCapture: @unchecked Sendable {
    // @unchecked Sendable: `records` is only touched while holding `lock`.
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var stored: [Record] = []

    var records: [Record] { lock.withLock { stored } }

    var logger: Logger {
        Logger(label: "capture") { _ in Handler(capture: self) }
    }

    fileprivate func append(_ record: Record) {
        lock.withLock { stored.append(record) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            merged.merge(event.metadata ?? [:]) { $1 }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: merged))
        }
    }
}
