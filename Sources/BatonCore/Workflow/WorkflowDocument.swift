import Foundation

/// The Workflow of the API (SPEC §4 "Stored workflows"): its spec, how it is triggered, its
/// state and the metrics of its schedule. The webhook secret is never part of it.
public struct WorkflowDocument: Codable, Sendable, Equatable {
    public var name: String
    /// The stored spec, canonical native form.
    public var spec: JSONValue
    public var schedule: ScheduleDocument?
    /// `{"enabled": true}` when the workflow has a webhook, else nil.
    public var webhook: WebhookDocument?
    /// `active` or `paused`.
    public var state: String
    public var createdAt: String
    public var updatedAt: String
    /// The RunSummary of the most recent run of this workflow, by any trigger.
    public var lastRun: RunDocument?
    /// The next 5 fire times, RFC 3339 in the schedule's zone with its offset; empty when
    /// there is no schedule, it is disabled, or the workflow is paused.
    public var nextRuns: [String]
    /// The cron watermark: the last scheduled instant handled (fired or skipped by policy).
    public var lastFireAt: String?
    /// The status of `lastRun`.
    public var lastStatus: RunStatus?
    /// `nextRuns[0]` as an RFC 3339 UTC timestamp.
    public var nextFireAt: String?

    enum CodingKeys: String, CodingKey {
        case name, spec, schedule, webhook, state
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastRun = "last_run"
        case nextRuns = "next_runs"
        case lastFireAt = "last_fire_at"
        case lastStatus = "last_status"
        case nextFireAt = "next_fire_at"
    }

    /// How many upcoming fire times `nextRuns` lists.
    public static let upcomingCount = 5

    /// The document of `record` at `now`, given the summary of its last run (if any).
    public init(record: WorkflowRecord, lastRun: RunDocument?, now: Date) {
        name = record.name
        spec = (JSONValue(json: record.specJSON) ?? .null).redactingNotifySecrets()
        schedule = record.schedule.map(ScheduleDocument.init)
        webhook = record.webhookSecret == nil ? nil : WebhookDocument(enabled: true)
        state = record.paused ? "paused" : "active"
        createdAt = Timestamp.format(record.createdAt)
        updatedAt = Timestamp.format(record.updatedAt)
        self.lastRun = lastRun
        lastStatus = lastRun?.status
        lastFireAt = record.lastFiredAt.map(Timestamp.format)
        nextRuns = []
        nextFireAt = nil
        if let schedule = record.schedule, schedule.enabled, !record.paused {
            // Nothing at or before the watermark fires (it may be ahead after a clock step back).
            let after = max(now, record.lastFiredAt ?? now)
            let zone = schedule.timeZone
            let upcoming = schedule.cron.nextFireTimes(after: after, in: zone, count: Self.upcomingCount)
            nextRuns = upcoming.map { ZonedTimestamp.format($0, in: zone) }
            nextFireAt = upcoming.first.map(Timestamp.format)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(spec, forKey: .spec)
        try container.encode(schedule, forKey: .schedule)
        try container.encode(webhook, forKey: .webhook)
        try container.encode(state, forKey: .state)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(lastRun, forKey: .lastRun)
        try container.encode(nextRuns, forKey: .nextRuns)
        try container.encode(lastFireAt, forKey: .lastFireAt)
        try container.encode(lastStatus, forKey: .lastStatus)
        try container.encode(nextFireAt, forKey: .nextFireAt)
    }
}

/// A Workflow's `schedule` as shown by the API.
public struct ScheduleDocument: Codable, Sendable, Equatable {
    /// The expression as written.
    public var cron: String
    public var timezone: String
    public var overlap: OverlapPolicy
    public var missed: MissedPolicy
    public var enabled: Bool

    public init(_ schedule: Schedule) {
        cron = schedule.cron.source
        timezone = schedule.timezone
        overlap = schedule.overlap
        missed = schedule.missed
        enabled = schedule.enabled
    }
}

/// A Workflow's `webhook` as shown by the API: only whether there is one, never the secret.
public struct WebhookDocument: Codable, Sendable, Equatable {
    public var enabled: Bool

    public init(enabled: Bool) {
        self.enabled = enabled
    }
}

/// `{"workflows": [...]}`.
public struct WorkflowList: Codable, Sendable, Equatable {
    public var workflows: [WorkflowDocument]

    public init(workflows: [WorkflowDocument]) {
        self.workflows = workflows
    }
}

extension JSONValue {
    /// The spec with every `notify[].secret` set to null: secrets are write-only, like the
    /// webhook secret (a GET-then-PUT round trip drops them; send them again to keep them).
    func redactingNotifySecrets() -> JSONValue {
        guard case .object(var members) = self, case .array(let entries)? = members["notify"] else { return self }
        members["notify"] = .array(
            entries.map { entry in
                guard case .object(var fields) = entry, fields["secret"] != nil, fields["secret"] != .null else {
                    return entry
                }
                fields["secret"] = .null
                return .object(fields)
            })
        return .object(members)
    }
}
