import Foundation

/// What created a run; rendered as `{"type": ...}` in the API (SPEC §4).
public enum RunTrigger: Sendable, Equatable {
    case api
    case manual
    case cron(scheduledAt: Date)
    case webhook(deliveryID: String?, event: String?)
    case retry(originalRunID: String)
    /// A child run: the workflow that task `task` of run `runID` runs, in its `attempt`.
    case task(runID: String, task: String, attempt: Int)
}

extension RunTrigger: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case scheduledAt = "scheduled_at"
        case deliveryID = "delivery_id"
        case event
        case originalRunID = "original_run_id"
        case runID = "run_id"
        case task
        case attempt
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "api": self = .api
        case "manual": self = .manual
        case "cron":
            let text = try container.decode(String.self, forKey: .scheduledAt)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .scheduledAt, in: container, debugDescription: "not RFC 3339: \(text)")
            }
            self = .cron(scheduledAt: date)
        case "webhook":
            self = .webhook(
                deliveryID: try container.decodeIfPresent(String.self, forKey: .deliveryID),
                event: try container.decodeIfPresent(String.self, forKey: .event))
        case "retry":
            self = .retry(originalRunID: try container.decode(String.self, forKey: .originalRunID))
        case "task":
            self = .task(
                runID: try container.decode(String.self, forKey: .runID),
                task: try container.decode(String.self, forKey: .task),
                attempt: try container.decode(Int.self, forKey: .attempt))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown trigger type \(type)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .api: try container.encode("api", forKey: .type)
        case .manual: try container.encode("manual", forKey: .type)
        case .cron(let scheduledAt):
            try container.encode("cron", forKey: .type)
            try container.encode(Timestamp.format(scheduledAt), forKey: .scheduledAt)
        case .webhook(let deliveryID, let event):
            try container.encode("webhook", forKey: .type)
            try container.encode(deliveryID, forKey: .deliveryID)
            try container.encode(event, forKey: .event)
        case .retry(let originalRunID):
            try container.encode("retry", forKey: .type)
            try container.encode(originalRunID, forKey: .originalRunID)
        case .task(let runID, let task, let attempt):
            try container.encode("task", forKey: .type)
            try container.encode(runID, forKey: .runID)
            try container.encode(task, forKey: .task)
            try container.encode(attempt, forKey: .attempt)
        }
    }
}

extension RunTrigger {
    /// The `type` member: `api`, `manual`, `cron`, `webhook`, `retry` or `task`.
    public var typeName: String {
        switch self {
        case .api: "api"
        case .manual: "manual"
        case .cron: "cron"
        case .webhook: "webhook"
        case .retry: "retry"
        case .task: "task"
        }
    }
}
