import BatonCore
import Foundation

// Rows turned into one array parameter per column, for `unnest($1::text[], $2::int[], …)`:
// the order of each `types` list is the order of its table's `columns`.

/// `$from::t1[], $(from+1)::t2[], …` for `types`.
private func casts(_ types: [String], from first: Int) -> String {
    types.enumerated().map { "$\(first + $0.offset)::\($0.element)[]" }.joined(separator: ", ")
}

/// Run updates: id, status, started_at, finished_at, cancel_requests, deadline_hit.
struct RunUpdateColumns {
    static let types = ["text", "text", "float8", "float8", "int", "bool"]
    static func casts(from first: Int) -> String { BatonStorage.casts(types, from: first) }

    let parameters: [String?]
    let distinctIDs: Set<String>

    init(_ runs: [RunUpdate]) {
        parameters = [
            PGArray.literal(runs.map { $0.id }),
            PGArray.literal(runs.map { $0.status.rawValue }),
            PGArray.literal(runs.map { $0.startedAt?.timeIntervalSince1970 }),
            PGArray.literal(runs.map { $0.finishedAt?.timeIntervalSince1970 }),
            PGArray.literal(runs.map { Optional($0.cancelRequests) }),
            PGArray.literal(runs.map { $0.deadlineHit }),
        ]
        distinctIDs = Set(runs.map(\.id))
    }
}

/// Task rows: run_id, then `TaskRecord.columns`.
struct TaskColumns {
    static let types = [
        "text", "int", "text", "text", "text", "int", "int", "int", "int", "text", "float8", "float8", "int", "float8",
    ]
    static func casts(from first: Int) -> String { BatonStorage.casts(types, from: first) }

    let parameters: [String?]

    init(_ rows: [(String, TaskRecord)]) {
        let tasks = rows.map(\.1)
        parameters = [
            PGArray.literal(rows.map { Optional($0.0) }),
            PGArray.literal(tasks.map { Optional($0.index) }),
            PGArray.literal(tasks.map { Optional($0.name) }),
            PGArray.literal(tasks.map { $0.group }),
            PGArray.literal(tasks.map { Optional($0.status.rawValue) }),
            PGArray.literal(tasks.map { Optional($0.attempt) }),
            PGArray.literal(tasks.map { Optional($0.failures) }),
            PGArray.literal(tasks.map { $0.exitCode.map(Int.init) }),
            PGArray.literal(tasks.map { $0.signal.map(Int.init) }),
            PGArray.literal(tasks.map { $0.reason }),
            PGArray.literal(tasks.map { $0.startedAt?.timeIntervalSince1970 }),
            PGArray.literal(tasks.map { $0.finishedAt?.timeIntervalSince1970 }),
            PGArray.literal(tasks.map { $0.pgid.map(Int.init) }),
            PGArray.literal(tasks.map { $0.retryAt?.timeIntervalSince1970 }),
        ]
    }
}

/// Attempt rows: `AttemptRecord.columns`, then the node that ran them.
struct AttemptColumns {
    static let types = ["text", "int", "int", "float8", "float8", "int", "int", "text", "text", "float8", "text"]
    static func casts(from first: Int) -> String { BatonStorage.casts(types, from: first) }

    let parameters: [String?]

    init(_ attempts: [AttemptRecord], node: String?) {
        parameters = [
            PGArray.literal(attempts.map { Optional($0.runID) }),
            PGArray.literal(attempts.map { Optional($0.taskIndex) }),
            PGArray.literal(attempts.map { Optional($0.attempt) }),
            PGArray.literal(attempts.map { Optional($0.startedAt.timeIntervalSince1970) }),
            PGArray.literal(attempts.map { $0.finishedAt?.timeIntervalSince1970 }),
            PGArray.literal(attempts.map { $0.exitCode.map(Int.init) }),
            PGArray.literal(attempts.map { $0.signal.map(Int.init) }),
            PGArray.literal(attempts.map { Optional($0.status.rawValue) }),
            PGArray.literal(attempts.map { Optional($0.logPath) }),
            PGArray.literal(attempts.map { $0.queuedAt?.timeIntervalSince1970 }),
            PGArray.literal(attempts.map { _ in node }),
        ]
    }
}
