/// The kinds of live events (`GET /v1/events`, docs/console-api.md).
public enum EventKind: String, Sendable, CaseIterable {
    case hello
    case runCreated = "run.created"
    case runUpdated = "run.updated"
    case taskUpdated = "task.updated"
    case logAppended = "log.appended"
    case workflowUpdated = "workflow.updated"
    case deliveryReceived = "delivery.received"
    case notificationUpdated = "notification.updated"
    case reset

    /// Whether a later event with the same key makes this one redundant (a slow stream
    /// may skip it: each carries the full new state, not a delta).
    public var isCoalescable: Bool {
        self == .runUpdated || self == .taskUpdated || self == .logAppended
    }
}

/// One committed change, told to live clients. `data` is one line of JSON.
public struct ServerEvent: Sendable, Equatable {
    /// Position in this server's event sequence, from 1, without gaps.
    public var seq: UInt64
    public var kind: EventKind
    /// The run it concerns, if any (filters `task.updated` and `log.appended`; wakes
    /// long-polls of that run).
    public var runID: String?
    /// The task it concerns, if any (filters `log.appended`).
    public var task: String?
    public var data: String
    /// The SSE frame as every stream sends it (`id`, `event`, `data`), rendered once when
    /// the event is published rather than once per stream; empty until then.
    public var frame: [UInt8] = []

    public init(seq: UInt64 = 0, kind: EventKind, runID: String? = nil, task: String? = nil, data: String) {
        self.seq = seq
        self.kind = kind
        self.runID = runID
        self.task = task
        self.data = data
    }

    /// Events with the same key describe the same thing; the later one supersedes.
    public var coalescingKey: String {
        kind.rawValue + "\u{0}" + (runID ?? "") + "\u{0}" + (task ?? "")
    }
}
