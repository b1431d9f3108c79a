import ArgumentParser
import BatonCore
import Foundation

/// `baton submit FILE [--wait]`: posts a spec to a server.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a spec to a Baton server.",
        discussion: """
            Prints the new run's id. With --wait, follows the run like `baton run` (one line per \
            task change, then the table) and exits like it: 0 succeeded, 1 failed, 3 timed out, \
            4 cancelled. Client exit codes: 2 invalid spec or usage, 5 server unreachable or \
            unexpected answer, 6 not found, 7 unauthorized, 8 conflict.
            """)

    @OptionGroup var options: ServerOptions
    @Argument(help: "The spec file (JSON or YAML, native or the original format).") var file: String
    @Flag(help: "Wait for the run to end, showing progress.") var wait = false
    @Flag(help: "Print the run as JSON.") var json = false

    func run() throws {
        try runClient {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ClientFailure.usage("cannot read \(file)")
            }
            let isJSON = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } == UInt8(ascii: "{")
            let client = try options.client()
            let run = try client.json(
                RunDocument.self, "POST", "/v1/runs", body: data,
                contentType: isJSON ? "application/json" : "application/yaml")
            if !wait {
                if json { Console.out(try ClientOutput.json(run)) } else { Console.out(run.id) }
                return
            }
            Console.error("baton: submitted run \(run.id)")
            let final = try RunFollower(client: client, runID: run.id, progressToStandardError: json).follow()
            Console.out(json ? try ClientOutput.json(final) : ClientOutput.table(final))
            try ClientOutput.exit(for: final.status)
        }
    }
}

/// `baton status [RUN]`: one run, or the latest runs.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a run, or list the latest runs.",
        discussion:
            "With RUN, exits like `baton run` would for its status (0 succeeded, 1 failed, 3, 4; 9 still running).")

    @OptionGroup var options: ServerOptions
    @Argument(help: ArgumentHelp("A run id.", valueName: "run")) var runID: String?
    @Option(help: "How many runs to list.") var limit = 20
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runClient {
            let client = try options.client()
            guard let id = runID else {
                let list = try client.json(RunListAnswer.self, "GET", "/v1/runs?limit=\(limit)")
                if json {
                    Console.out(try ClientOutput.json(list.runs))
                } else {
                    for summary in list.runs {
                        Console.out(
                            "\(summary.id)  \(summary.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(summary.createdAt)  \(summary.name)"
                        )
                    }
                }
                return
            }
            let document = try client.json(RunDocument.self, "GET", "/v1/runs/\(PathEscape.segment(id))")
            Console.out(json ? try ClientOutput.json(document) : ClientOutput.table(document))
            if !document.status.isTerminal { throw ExitCode(9) }
            try ClientOutput.exit(for: document.status)
        }
    }
}

/// `baton cancel RUN`.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run (a second cancel also stops its runalways groups).",
        discussion: "Exit codes: 0 accepted, 8 the run had already ended, 6 no such run.")

    @OptionGroup var options: ServerOptions
    @Argument(help: ArgumentHelp("A run id.", valueName: "run")) var runID: String

    func run() throws {
        try runClient {
            let document = try options.client().json(
                RunDocument.self, "POST", "/v1/runs/\(PathEscape.segment(runID))/cancel")
            Console.out("cancelling \(document.id) (\(document.status.rawValue))")
        }
    }
}

/// `baton retry RUN`.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Start a new run that re-executes what did not succeed.")

    @OptionGroup var options: ServerOptions
    @Argument(help: ArgumentHelp("A finished run's id.", valueName: "run")) var runID: String

    func run() throws {
        try runClient {
            let document = try options.client().json(
                RunDocument.self, "POST", "/v1/runs/\(PathEscape.segment(runID))/retry")
            Console.out(document.id)
        }
    }
}

/// `baton logs RUN TASK [--follow]`.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a task's output; --follow tails it until the attempt ends.")

    @OptionGroup var options: ServerOptions
    @Argument(help: ArgumentHelp("A run id.", valueName: "run")) var runID: String
    @Argument(help: "A task name.") var task: String
    @Option(help: "Attempt number (default: the latest).") var attempt: Int?
    @Flag(name: .shortAndLong, help: "Keep printing new output until the attempt is complete.") var follow = false

    func run() throws {
        try runClient {
            let client = try options.client()
            var offset = 0
            while true {
                var path =
                    "/v1/runs/\(PathEscape.segment(runID))/tasks/\(PathEscape.segment(task))/log?offset=\(offset)"
                if let attempt { path += "&attempt=\(attempt)" }
                let answer = try client.send("GET", path)
                try APIClient.check(answer)
                FileHandle.standardOutput.write(answer.body)
                offset += answer.body.count
                let complete = answer.header("X-Log-Complete") == "true"
                if !follow || complete { return }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}

struct RunListAnswer: Decodable {
    var runs: [RunDocument]
}

/// Percent-encoding of one path segment (task names may hold spaces and slashes).
enum PathEscape {
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        allowed.remove("?")
        allowed.remove("#")
        allowed.remove("%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
