import ArgumentParser
import BatonCore
import Foundation

/// Polls a run until it ends (using its ETag, so unchanged polls cost a 304), printing a
/// line per task change like `baton run`.
struct RunFollower {
    let client: APIClient
    let runID: String
    let progressToStandardError: Bool

    func follow() throws -> RunDocument {
        let printer = RunProgressPrinter(toStandardError: progressToStandardError, rootRunID: runID)
        var etag: String?
        var last: RunDocument?
        while true {
            let answer = try client.send(
                "GET", "/v1/runs/\(PathEscape.segment(runID))", headers: etag.map { ["If-None-Match": $0] } ?? [:])
            if answer.status != 304 {
                try APIClient.check(answer)
                let document = try JSONDecoder().decode(RunDocument.self, from: answer.body)
                etag = answer.header("ETag")
                var batch = StoreBatch()
                for (index, task) in (document.tasks ?? []).enumerated() {
                    batch.tasks.append((document.id, ClientOutput.record(index: index, task)))
                }
                printer.handle(batch)
                last = document
                if document.status.isTerminal { return document }
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        _ = last
    }
}

/// Rendering shared by the client commands.
enum ClientOutput {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func record(index: Int, _ task: TaskDocument) -> TaskRecord {
        TaskRecord(
            index: index, name: task.name, group: task.group, status: task.status, attempt: task.attempt,
            exitCode: task.exitCode, signal: task.signal, reason: task.reason,
            startedAt: task.startedAt.flatMap(Timestamp.parse), finishedAt: task.finishedAt.flatMap(Timestamp.parse))
    }

    static func table(_ document: RunDocument) -> String {
        let run = RunRecord(
            id: document.id, name: document.name, workflow: document.workflow, status: document.status,
            trigger: document.trigger, createdAt: Timestamp.parse(document.createdAt) ?? Date(),
            startedAt: document.startedAt.flatMap(Timestamp.parse),
            finishedAt: document.finishedAt.flatMap(Timestamp.parse),
            specJSON: Data(), specHash: "")
        let tasks = (document.tasks ?? []).enumerated().map { record(index: $0.offset, $0.element) }
        return RunTable.render(run: run, tasks: tasks)
    }

    /// The `baton run` exit code of a final status.
    static func exit(for status: RunStatus) throws {
        switch status {
        case .succeeded: return
        case .timedOut: throw BatonExit.timedOut
        case .cancelled: throw BatonExit.cancelled
        case .queued, .running: throw ExitCode(9)
        case .failed: throw BatonExit.failed
        }
    }
}
