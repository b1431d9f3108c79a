import Foundation

/// What a cron fire does when the previous run of the workflow is still going.
public enum OverlapPolicy: String, Sendable, Codable, CaseIterable {
    /// Drop this fire (default).
    case skip
    /// Start another run alongside.
    case allow
    /// Start once the running one ends; at most one waits.
    case queue
    /// Cancel the running one, then start.
    case replace
}

/// What happens to fires that fell in a downtime.
public enum MissedPolicy: String, Sendable, Codable, CaseIterable {
    /// Forget them.
    case skip
    /// Run once for the latest missed instant (default).
    case runOnce = "run_once"
}

/// A workflow's cron repetition (SPEC §4 `schedule`).
public struct Schedule: Sendable, Equatable {
    public var cron: CronExpression
    /// IANA identifier, default `UTC`.
    public var timezone: String
    public var overlap: OverlapPolicy
    public var missed: MissedPolicy
    public var enabled: Bool

    public init(
        cron: CronExpression, timezone: String = "UTC", overlap: OverlapPolicy = .skip,
        missed: MissedPolicy = .runOnce, enabled: Bool = true
    ) {
        self.cron = cron
        self.timezone = timezone
        self.overlap = overlap
        self.missed = missed
        self.enabled = enabled
    }

    /// The zone the expression is evaluated in.
    public var timeZone: TimeZone { TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")! }
}
