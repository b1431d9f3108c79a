import Foundation

/// The Run printed by `baton run --json` (SPEC §4), decoded independently of Baton's own
/// types so the test holds the wire shape.
struct RunOutput: Decodable, Sendable {
    var id: String
    var name: String
    var status: String
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var counts: [String: Int]
    var tasks: [TaskOutput]

    /// Decodes the single JSON object on stdout.
    static func decode(_ exit: BatonExit) throws -> RunOutput {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(RunOutput.self, from: Data(exit.stdout.utf8))
        } catch {
            throw E2EError("stdout is not a Run: \(error)\n\(exit)")
        }
    }

    /// The task named `name`.
    func task(_ name: String) throws -> TaskOutput {
        guard let task = tasks.first(where: { $0.name == name }) else {
            throw E2EError("no task \"\(name)\" in run; tasks: \(tasks.map(\.name))")
        }
        return task
    }

    /// name → status, to compare a whole run at once.
    var statuses: [String: String] {
        Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, $0.status) })
    }

    /// The index of `name` in the spec (the `<taskIndex>` of log paths).
    func index(of name: String) throws -> Int {
        guard let index = tasks.firstIndex(where: { $0.name == name }) else {
            throw E2EError("no task \"\(name)\" in run")
        }
        return index
    }
}

/// One task of a Run.
struct TaskOutput: Decodable, Sendable {
    var name: String
    var group: String?
    var status: String
    var attempt: Int
    var exitCode: Int?
    var signal: Int?
    var reason: String?
    var startedAt: String?
    var finishedAt: String?
    var durationSeconds: Double?

    /// `started_at` as a date (the task must have started).
    func started() throws -> Date { try Timestamps.parse(startedAt, "\(name).started_at") }

    /// `finished_at` as a date (the task must have ended).
    func finished() throws -> Date { try Timestamps.parse(finishedAt, "\(name).finished_at") }
}

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-23T14:34:05.123Z`).
enum Timestamps {
    static func parse(_ text: String?, _ what: String) throws -> Date {
        guard let text else { throw E2EError("\(what) is null") }
        guard text.count == 24, text.hasSuffix("Z"),
            let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
        else { throw E2EError("\(what) is not RFC 3339 UTC with milliseconds: \(text)") }
        return date
    }
}

extension Scratch {
    /// The log of one attempt: `<data-dir>/logs/<runID>/<taskIndex>.<attempt>.log`.
    func log(_ run: RunOutput, task name: String, attempt: Int = 1) throws -> String {
        let path = "data/logs/\(run.id)/\(try run.index(of: name)).\(attempt).log"
        guard let text = read(path) else { throw E2EError("no log at \(path)") }
        return text
    }
}
