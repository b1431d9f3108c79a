import ArgumentParser
import BatonCore
import BatonRunner
import BatonStorage
import Foundation
import Logging

/// `baton run FILE`: runs one spec locally, no server (SPEC §5), a drop-in replacement for
/// the original `python app.py --config FILE`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow spec locally and wait for it to end.",
        discussion: """
            Prints one line per task state change, then a table of tasks (or, with --json, \
            the final run as one JSON object in the API's Run shape). Given a --data-dir that \
            holds an unfinished run of the same spec (the runner was killed), resumes it.
            Exit codes: 0 succeeded, 1 failed, 2 invalid spec or setup error, 3 timed out, \
            4 cancelled, 130/143 interrupted by SIGINT/SIGTERM (tasks stopped and recorded).
            """)

    @Argument(help: "The spec file: native JSON/YAML or the original YAML format.")
    var file: String

    @Option(help: "Where the run's database and logs are kept (default: a temporary directory, removed at exit).")
    var dataDir: String?

    @Option(help: "Size of the worker pool (default: the number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print the final run as JSON (the API's Run shape) instead of the table.")
    var json = false

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        // One process, one run: the spec is parsed here and scheduled on the executor's
        // thread, so one malloc arena lets the executor reuse what parsing freed
        // (MallocArenas). `baton serve` keeps glibc's default: its request threads
        // allocate at once, and one shared arena cost GET throughput there.
        MallocArenas.useOne()
        guard let spec = SpecFile.load(file) else { throw BatonExit.badInput }
        let directory: URL
        let temporary = dataDir == nil
        if let dataDir {
            directory = URL(fileURLWithPath: dataDir)
        } else {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("baton-run-\(RunID.generate())")
        }
        defer { if temporary { try? FileManager.default.removeItem(at: directory) } }
        let outcome: LocalRun.Outcome
        do {
            outcome = try LocalRun(spec: spec, dataDirectory: directory, workers: workers, json: json).execute()
        } catch {
            Console.error("baton: \(error)")
            throw BatonExit.badInput
        }
        if json {
            // The API's writer (the same document as `GET /v1/runs/{id}`): JSONEncoder's
            // boxed tree of a 10,000-task run had been the peak of `baton run`'s memory.
            let document = RunDocument(
                run: outcome.run, tasks: outcome.tasks,
                notifications: outcome.notifications.isEmpty ? nil : outcome.notifications.map(\.document))
            Console.out(bytes: RunDocumentJSON.encode(document))
        } else {
            Console.out(RunTable.render(run: outcome.run, tasks: outcome.tasks))
        }
        if let signal = outcome.interruptedBy {
            throw signal == SIGTERM ? BatonExit.terminated : BatonExit.interrupted
        }
        switch outcome.run.status {
        case .succeeded: return
        case .timedOut: throw BatonExit.timedOut
        case .cancelled: throw BatonExit.cancelled
        default: throw BatonExit.failed
        }
    }
}
