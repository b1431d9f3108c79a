import ArgumentParser
import BatonCore
import Foundation

/// `baton workflows …`: stored workflows on a server (SPEC §4).
struct WorkflowsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflows", abstract: "Manage stored workflows on a Baton server.",
        subcommands: [
            WorkflowsList.self, WorkflowsShow.self, WorkflowsPut.self, WorkflowsDelete.self, WorkflowsRun.self,
            WorkflowsPause.self, WorkflowsResume.self,
        ],
        defaultSubcommand: WorkflowsList.self)
}

struct WorkflowsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List workflows.")
    @OptionGroup var options: ServerOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runClient {
            let answer = try options.client().send("GET", "/v1/workflows")
            try APIClient.check(answer)
            if json {
                FileHandle.standardOutput.write(answer.body + Data("\n".utf8))
                return
            }
            let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            for workflow in object?["workflows"] as? [[String: Any]] ?? [] {
                let name = workflow["name"] as? String ?? "?"
                let state = workflow["state"] as? String ?? "?"
                let cron = (workflow["schedule"] as? [String: Any])?["cron"] as? String ?? "-"
                let next = workflow["next_fire_at"] as? String ?? "-"
                Console.out("\(name)  \(state)  \(cron)  next: \(next)")
            }
        }
    }
}

struct WorkflowsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a workflow as JSON.")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String

    func run() throws {
        try runClient {
            let answer = try options.client().send("GET", "/v1/workflows/\(PathEscape.segment(name))")
            try APIClient.check(answer)
            FileHandle.standardOutput.write(answer.body + Data("\n".utf8))
        }
    }
}

struct WorkflowsPut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Create or replace a workflow from a spec file.",
        discussion:
            "The spec file is JSON or YAML (native or the original format); --cron adds a schedule, --webhook-secret a webhook."
    )
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String
    @Argument(help: "The spec file.") var file: String
    @Option(help: "Cron expression (5 or 6 fields, @daily, @every 30s, …).") var cron: String?
    @Option(help: "IANA time zone of the cron expression.") var timezone = "UTC"
    @Option(help: "skip, allow, queue or replace.") var overlap = "skip"
    @Option(help: "skip or run_once.") var missed = "run_once"
    @Option(help: "Secret of the webhook (POST /v1/hooks/NAME).") var webhookSecret: String?

    func run() throws {
        try runClient {
            guard FileManager.default.contents(atPath: file) != nil, let spec = SpecFile.load(file) else {
                throw ClientFailure.usage("\(file) is not a valid spec (see the errors above)")
            }
            guard let specObject = try JSONSerialization.jsonObject(with: SpecEncoder.encode(spec)) as? [String: Any]
            else { throw ClientFailure.unexpected("could not encode the spec") }
            var body: [String: Any] = ["spec": specObject]
            if let cron {
                body["schedule"] = ["cron": cron, "timezone": timezone, "overlap": overlap, "missed": missed]
            }
            if let webhookSecret { body["webhook"] = ["secret": webhookSecret] }
            let data = try JSONSerialization.data(withJSONObject: body)
            let answer = try options.client().send(
                "PUT", "/v1/workflows/\(PathEscape.segment(name))", body: data, contentType: "application/json")
            try APIClient.check(answer)
            Console.out(answer.status == 201 ? "created \(name)" : "replaced \(name)")
        }
    }
}

struct WorkflowsDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a workflow (its runs go on).")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String

    func run() throws {
        try WorkflowCall.send(options, "DELETE", name, "", done: "deleted")
    }
}

struct WorkflowsRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Start a manual run of a workflow; --wait follows it like `baton submit --wait`.")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String
    @Option(name: .customLong("env"), help: "KEY=VALUE added to the run's env (repeatable).") var env: [String] = []
    @Flag(help: "Wait for the run to end, showing progress.") var wait = false

    func run() throws {
        try runClient {
            var overrides: [String: String] = [:]
            for pair in env {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ClientFailure.usage("--env expects KEY=VALUE, not \"\(pair)\"")
                }
                overrides[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            let body = try JSONSerialization.data(withJSONObject: overrides.isEmpty ? [:] : ["env": overrides])
            let client = try options.client()
            let run = try client.json(
                RunDocument.self, "POST", "/v1/workflows/\(PathEscape.segment(name))/runs", body: body,
                contentType: "application/json")
            guard wait else {
                Console.out(run.id)
                return
            }
            let final = try RunFollower(client: client, runID: run.id, progressToStandardError: false).follow()
            Console.out(ClientOutput.table(final))
            try ClientOutput.exit(for: final.status)
        }
    }
}

struct WorkflowsPause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause cron fires and webhooks.")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String

    func run() throws {
        try WorkflowCall.send(options, "POST", name, "/pause", done: "paused")
    }
}

struct WorkflowsResume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused workflow.")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The workflow's name.") var name: String

    func run() throws {
        try WorkflowCall.send(options, "POST", name, "/resume", done: "resumed")
    }
}

/// A workflow call whose answer is only checked: print one line on success.
enum WorkflowCall {
    static func send(_ options: ServerOptions, _ method: String, _ name: String, _ suffix: String, done: String) throws
    {
        try runClient {
            let answer = try options.client().send(method, "/v1/workflows/\(PathEscape.segment(name))\(suffix)")
            try APIClient.check(answer)
            Console.out("\(done) \(name)")
        }
    }
}
