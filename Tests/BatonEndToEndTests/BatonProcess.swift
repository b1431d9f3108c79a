import Foundation
import Glibc
import Synchronization

/// How a `baton` invocation ended.
struct BatonExit: Sendable, CustomStringConvertible {
    /// The exit status, or nil when a signal killed it.
    var status: Int32?
    /// The signal that killed it, if one did.
    var signal: Int32?
    var stdout: String
    var stderr: String

    var description: String {
        let how = status.map { "exit \($0)" } ?? "signal \(signal ?? 0)"
        return "\(how)\n--- stdout\n\(stdout.suffix(4000))\n--- stderr\n\(stderr.suffix(4000))"
    }

    /// The stderr lines.
    var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// A `baton` child process started by a test. Its stdout and stderr go to files in the
/// scratch directory (no pipes: nothing can fill up, and nothing leaks into the tasks).
///
/// `@unchecked Sendable`: `process` is configured and launched in `init` and only queried
/// (thread-safe `Process` accessors) or signalled afterwards; the rest is immutable.
final class BatonProcess: @unchecked Sendable {
    let arguments: [String]
    private let process = Process()
    private let stdoutPath: String
    private let stderrPath: String

    /// Starts `baton ARGUMENTS` in `directory` (default: the scratch directory), with the
    /// scratch tag and `environment` added to the test's environment; through `launcher`
    /// (e.g. `["/usr/bin/env"]`) when one is given.
    init(
        _ arguments: [String], scratch: Scratch, directory: String? = nil,
        environment: [String: String] = [:], unsetting: [String] = [], standardInput: Pipe? = nil,
        launcher: [String] = []
    ) throws {
        self.arguments = arguments
        let id = UUID().uuidString.prefix(8)
        stdoutPath = scratch.path("baton-\(id).stdout")
        stderrPath = scratch.path("baton-\(id).stderr")
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
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = launcher.dropFirst() + [TestSupport.batonBinary.path] + arguments
        } else {
            process.executableURL = TestSupport.batonBinary
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? scratch.directory.path)
        var env = ProcessInfo.processInfo.environment
        env[Scratch.tagVariable] = scratch.tag
        env["NO_COLOR"] = "1"
        env.merge(environment) { $1 }
        for name in unsetting { env[name] = nil }
        process.environment = env
        process.standardInput = standardInput ?? FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        scratch.track(self)
    }

    var pid: pid_t { process.processIdentifier }

    var isRunning: Bool { process.isRunning }

    /// What Baton wrote on stdout so far.
    var currentStdout: String { Self.contents(stdoutPath) }

    /// What Baton wrote on stderr so far.
    var currentStderr: String { Self.contents(stderrPath) }

    /// Sends `signal` to Baton itself (not to its tasks).
    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for Baton to exit; past `limit` (a generous bound, reaching it is a failure)
    /// kills it and throws.
    func finish(within limit: Duration = .seconds(60)) async throws -> BatonExit {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                killAndReap()
                throw E2EError(
                    "baton \(arguments.joined(separator: " ")) still running after \(limit); killed.\n"
                        + "--- stderr\n\(Self.contents(stderrPath).suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let signalled = process.terminationReason == .uncaughtSignal
        return BatonExit(
            status: signalled ? nil : process.terminationStatus,
            signal: signalled ? process.terminationStatus : nil,
            stdout: Self.contents(stdoutPath), stderr: Self.contents(stderrPath))
    }

    /// SIGKILL and wait (cleanup path).
    func killAndReap() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

extension Scratch {
    /// Runs `baton ARGUMENTS` to completion.
    func baton(
        _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
        within limit: Duration = .seconds(60)
    ) async throws -> BatonExit {
        try await BatonProcess(arguments, scratch: self, directory: directory, environment: environment)
            .finish(within: limit)
    }

    /// Starts `baton run SPEC --json --data-dir DATA [EXTRA]` in the background.
    func startRun(
        _ spec: String, extra: [String] = [], directory: String? = nil,
        environment: [String: String] = [:], standardInput: Pipe? = nil
    ) throws -> BatonProcess {
        try BatonProcess(
            ["run", spec, "--json", "--data-dir", dataDirectory] + extra, scratch: self,
            directory: directory, environment: environment, standardInput: standardInput)
    }

    /// `baton run SPEC --json --data-dir DATA [EXTRA]` to completion, with the final Run
    /// decoded from stdout.
    func run(
        _ spec: String, extra: [String] = ["--workers", "8"], directory: String? = nil,
        environment: [String: String] = [:], within limit: Duration = .seconds(60)
    ) async throws -> (exit: BatonExit, run: RunOutput) {
        let process = try startRun(spec, extra: extra, directory: directory, environment: environment)
        let exit = try await process.finish(within: limit)
        return (exit, try RunOutput.decode(exit))
    }

    /// `run` for a spec given as a JSON object (see `writeSpec`).
    func run(
        spec: [String: Any], extra: [String] = ["--workers", "8"], environment: [String: String] = [:],
        within limit: Duration = .seconds(60)
    ) async throws -> (exit: BatonExit, run: RunOutput) {
        try await run(writeSpec(spec), extra: extra, environment: environment, within: limit)
    }
}
