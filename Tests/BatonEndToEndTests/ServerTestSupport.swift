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

/// One `baton serve` child process. stdout and stderr go to files in the scratch directory
/// (no pipes that could fill up); the scratch tag in its environment lets `Scratch.cleanUp`
/// find it and every task it started.
///
/// `@unchecked Sendable`: `process` is configured and launched in `init`, then only queried
/// through thread-safe accessors or signalled; everything else is immutable.
final class ServerProcess: @unchecked Sendable {
    let arguments: [String]
    private let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(arguments: [String], scratch: Scratch, environment: [String: String], directory: String?) throws {
        self.arguments = arguments
        let id = UUID().uuidString.prefix(8)
        stdoutPath = scratch.path("serve-\(id).stdout")
        stderrPath = scratch.path("serve-\(id).stderr")
        for path in [stdoutPath, stderrPath] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw E2EError("cannot create \(path)")
            }
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        defer {
            try? out.close()
            try? err.close()
        }
        process.executableURL = TestSupport.batonBinary
        process.arguments = ["serve"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? scratch.directory.path)
        var env = ProcessInfo.processInfo.environment
        env["BATON_TOKEN"] = nil
        env[Scratch.tagVariable] = scratch.tag
        env["NO_COLOR"] = "1"
        env.merge(environment) { $1 }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

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

    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit; past `limit` it is killed and the wait throws.
    func waitForExit(within limit: Duration = .seconds(30)) async throws -> ServerExit {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw E2EError("baton serve still running after \(limit); killed.\n\(stderr.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let signalled = process.terminationReason == .uncaughtSignal
        return ServerExit(
            status: signalled ? nil : process.terminationStatus,
            signal: signalled ? process.terminationStatus : nil, stderr: stderr)
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace` (the always-run cleanup).
    func stop(grace: Duration = .seconds(15)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
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
            directory: options.directory)
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
