import Foundation
import Glibc
import Synchronization
import Testing

/// How a test wants its `baton serve` started.
struct ServerOptions: Sendable {
    /// The API token, written to a token file and passed with `--token-file`.
    var token: String?
    var workers: Int?
    var maxBodyBytes: Int?
    var maxTasks: Int?
    var listen = "127.0.0.1:0"
    /// More flags after the ones above.
    var extraArguments: [String] = []
    /// Added to the server's environment (`BATON_TOKEN` is removed unless given here).
    var environment: [String: String] = [:]
    /// The server's working directory (default: the scratch directory).
    var directory: String?
    /// A program that starts the server (BatonProcess `launcher`).
    var launcher: [String] = []

    init(
        token: String? = nil, workers: Int? = nil, maxBodyBytes: Int? = nil, maxTasks: Int? = nil,
        listen: String = "127.0.0.1:0", extraArguments: [String] = [], environment: [String: String] = [:],
        directory: String? = nil
    ) {
        self.token = token
        self.workers = workers
        self.maxBodyBytes = maxBodyBytes
        self.maxTasks = maxTasks
        self.listen = listen
        self.extraArguments = extraArguments
        self.environment = environment
        self.directory = directory
    }
}

/// How a `baton serve` process ended.
struct ServerExit: Sendable, CustomStringConvertible {
    var status: Int32?
    var signal: Int32?
    var stderr: String

    var description: String {
        let how = status.map { "exit \($0)" } ?? "signal \(signal ?? 0)"
        return "\(how)\n--- stderr\n\(stderr.suffix(4000))"
    }
}

/// One `baton serve` child process: a `BatonProcess` (stdout and stderr in files of the
/// scratch directory, tracked for `Scratch.cleanUp`) run without the test's BATON_TOKEN,
/// plus what a server needs: its port, a graceful stop.
final class ServerProcess: Sendable {
    let arguments: [String]
    private let baton: BatonProcess

    init(
        arguments: [String], scratch: Scratch, environment: [String: String], directory: String?,
        launcher: [String] = []
    ) throws {
        self.arguments = arguments
        let unsetting = environment["BATON_TOKEN"] == nil ? ["BATON_TOKEN"] : []
        baton = try BatonProcess(
            ["serve"] + arguments, scratch: scratch, directory: directory, environment: environment,
            unsetting: unsetting, launcher: launcher)
    }

    var pid: pid_t { baton.pid }
    var isRunning: Bool { baton.isRunning }
    var stdout: String { baton.currentStdout }
    var stderr: String { baton.currentStderr }

    /// Waits for `baton: listening on http://HOST:PORT` and returns PORT.
    func waitForPort(within limit: Duration = .seconds(30)) async throws -> Int {
        var port: Int?
        try await waitUntil("baton serve to print its address", within: limit) {
            for line in stdout.split(separator: "\n") where line.hasPrefix("baton: listening on http://") {
                if let colon = line.lastIndex(of: ":"), let value = Int(line[line.index(after: colon)...]) {
                    port = value
                    return true
                }
            }
            if !isRunning { throw E2EError("baton serve exited before listening:\n\(stderr.suffix(4000))") }
            return false
        }
        guard let port else { throw E2EError("no port") }
        return port
    }

    func send(_ signal: Int32) { baton.send(signal) }

    /// Waits for the process to exit; past `limit` it is killed and the wait throws.
    func waitForExit(within limit: Duration = .seconds(30)) async throws -> ServerExit {
        let exit = try await baton.finish(within: limit)
        return ServerExit(status: exit.status, signal: exit.signal, stderr: exit.stderr)
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace` (the always-run cleanup).
    func stop(grace: Duration = .seconds(15)) async {
        guard baton.isRunning else { return }
        baton.send(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while baton.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        baton.killAndReap()
    }
}

/// The real `baton serve` of one test: a fresh scratch directory (data dir, token file,
/// files the tasks write), the current server process, and a client for it. It can be
/// killed and started again on the same data directory.
///
/// `@unchecked Sendable`: the mutable part (the current process and its port) sits behind
/// a `Mutex`.
final class TestServer: @unchecked Sendable {
    let scratch: Scratch
    let options: ServerOptions
    private let current: Mutex<(process: ServerProcess, port: Int)?> = Mutex(nil)

    init(scratch: Scratch, options: ServerOptions) {
        self.scratch = scratch
        self.options = options
    }

    var dataDirectory: String { scratch.dataDirectory }

    var arguments: [String] {
        var arguments = ["--listen", options.listen, "--data-dir", dataDirectory]
        if options.token != nil { arguments += ["--token-file", scratch.path("token")] }
        if let workers = options.workers { arguments += ["--workers", String(workers)] }
        if let bytes = options.maxBodyBytes { arguments += ["--max-body-bytes", String(bytes)] }
        if let tasks = options.maxTasks { arguments += ["--max-tasks", String(tasks)] }
        return arguments + options.extraArguments
    }

    /// Starts a server process (again, after a kill, on the same data directory).
    func start() async throws {
        if let token = options.token { try scratch.write("token", token + "\n") }
        let process = try ServerProcess(
            arguments: arguments, scratch: scratch, environment: options.environment,
            directory: options.directory, launcher: options.launcher)
        do {
            let port = try await process.waitForPort()
            current.withLock { $0 = (process, port) }
        } catch {
            await process.stop(grace: .seconds(1))
            throw error
        }
    }

    var process: ServerProcess {
        get throws {
            guard let current = current.withLock({ $0 }) else { throw E2EError("no server started") }
            return current.process
        }
    }

    var port: Int {
        get throws {
            guard let current = current.withLock({ $0 }) else { throw E2EError("no server started") }
            return current.port
        }
    }

    /// A client carrying the server's token (when it has one).
    var client: HTTPClient {
        get throws { HTTPClient(port: try port, token: options.token ?? options.environment["BATON_TOKEN"]) }
    }

    /// `kill -9` of the server; its tasks stay behind, as after a crash.
    func kill9() async throws {
        let process = try process
        process.send(SIGKILL)
        _ = try await process.waitForExit()
    }

    /// SIGTERM and the exit (generous bound).
    func terminate(within limit: Duration = .seconds(30)) async throws -> ServerExit {
        let process = try process
        process.send(SIGTERM)
        return try await process.waitForExit(within: limit)
    }

    /// The always-run teardown: stops the server if it still runs.
    func stop() async {
        if let process = current.withLock({ $0?.process }) { await process.stop() }
    }
}

/// Runs `body` against a fresh `baton serve`, and always stops the server and kills
/// whatever is left of the test (tasks, orphans) afterwards, whether `body` passed, failed
/// an expectation or threw.
func withTestServer<T>(
    _ options: ServerOptions = ServerOptions(), _ body: (TestServer) async throws -> T
) async throws -> T {
    let scratch = try Scratch()
    defer { scratch.cleanUp() }
    let server = TestServer(scratch: scratch, options: options)
    do {
        try await server.start()
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
