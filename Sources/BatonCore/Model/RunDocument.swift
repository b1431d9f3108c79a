import Foundation

/// The Run of the API (SPEC §4), also printed by `baton run --json`: one serializer for
/// every client. A RunSummary is the same object without `tasks`.
public struct RunDocument: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var workflow: String?
    public var status: RunStatus
    public var trigger: RunTrigger
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Tasks per status, every status present.
    public var counts: [String: Int]
    public var tasks: [TaskDocument]?
    /// Deliveries of the spec's `notify` entries; absent when the spec has none.
    public var notifications: [NotificationDocument]?

    enum CodingKeys: String, CodingKey {
        case id, name, workflow, status, trigger, counts, tasks, notifications
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// Builds the document; pass `includeTasks: false` for a RunSummary.
    public init(
        run: RunRecord, tasks: [TaskRecord], includeTasks: Bool = true,
        notifications: [NotificationDocument]? = nil
    ) {
        var counts: [TaskStatus: Int] = [:]
        for task in tasks { counts[task.status, default: 0] += 1 }
        self.init(summary: run, counts: counts, notifications: notifications)
        self.tasks = includeTasks ? tasks.map(TaskDocument.init) : nil
    }

    /// A RunSummary from counts the store computed.
    public init(summary run: RunRecord, counts: [TaskStatus: Int], notifications: [NotificationDocument]? = nil) {
        id = run.id
        name = run.name
        workflow = run.workflow
        status = run.status
        trigger = run.trigger
        createdAt = Timestamp.format(run.createdAt)
        startedAt = run.startedAt.map(Timestamp.format)
        finishedAt = run.finishedAt.map(Timestamp.format)
        self.counts = Dictionary(uniqueKeysWithValues: TaskStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
        tasks = nil
        self.notifications = notifications
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(status, forKey: .status)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(counts, forKey: .counts)
        try container.encodeIfPresent(tasks, forKey: .tasks)
        try container.encodeIfPresent(notifications, forKey: .notifications)
    }
}

/// One task of a Run document.
public struct TaskDocument: Codable, Sendable, Equatable {
    public var name: String
    public var group: String?
    public var status: TaskStatus
    /// Attempts made so far.
    public var attempt: Int
    public var exitCode: Int32?
    public var signal: Int32?
    public var reason: String?
    public var startedAt: String?
    public var finishedAt: String?
    /// Null until the task ends, so an unchanged run keeps its ETag.
    public var durationSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case name, group, status, attempt, signal, reason
        case exitCode = "exit_code"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationSeconds = "duration_seconds"
    }

    public init(_ task: TaskRecord) {
        name = task.name
        group = task.group
        status = task.status
        attempt = task.attempt
        exitCode = task.exitCode
        signal = task.signal
        reason = task.reason
        startedAt = task.startedAt.map(Timestamp.format)
        finishedAt = task.finishedAt.map(Timestamp.format)
        if task.status.isTerminal, let started = task.startedAt, let finished = task.finishedAt {
            durationSeconds = (finished.timeIntervalSince(started) * 1000).rounded() / 1000
        } else {
            durationSeconds = nil
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(group, forKey: .group)
        try container.encode(status, forKey: .status)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(signal, forKey: .signal)
        try container.encode(reason, forKey: .reason)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(durationSeconds, forKey: .durationSeconds)
    }
}

/// One outgoing notification of a run (SPEC §1 `notify`).
public struct NotificationDocument: Codable, Sendable, Equatable {
    public var url: String
    public var status: String
    public var attempts: Int
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case url, status, attempts
        case lastError = "last_error"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(lastError, forKey: .lastError)  // explicit null, like every nullable field
    }

    public init(url: String, status: String, attempts: Int, lastError: String?) {
        self.url = url
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
    }
}
