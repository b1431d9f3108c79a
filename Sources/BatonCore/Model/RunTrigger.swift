import Foundation

/// What created a run; rendered as `{"type": ...}` in the API (SPEC §4).
public enum RunTrigger: Sendable, Equatable {
    case api
    case manual
    case cron(scheduledAt: Date)
    case webhook(deliveryID: String?, event: String?)
    case retry(originalRunID: String)
}

extension RunTrigger: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case scheduledAt = "scheduled_at"
        case deliveryID = "delivery_id"
        case event
        case originalRunID = "original_run_id"
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
        }
    }
}

extension RunTrigger {
    /// The `type` member: `api`, `manual`, `cron`, `webhook` or `retry`.
    public var typeName: String {
        switch self {
        case .api: "api"
        case .manual: "manual"
        case .cron: "cron"
        case .webhook: "webhook"
        case .retry: "retry"
        }
    }
}
