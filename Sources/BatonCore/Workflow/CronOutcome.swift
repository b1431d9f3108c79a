/// What became of a due cron instant (for metrics).
public enum CronOutcome: String, Sendable, CaseIterable {
    /// A run was created and started.
    case started
    /// `overlap: skip`, or a missed instant skipped by the `missed` policy.
    case skipped
    /// `overlap: queue`: it waits for the active run.
    case queued
    /// `overlap: replace`: the active runs were cancelled and a run started.
    case replaced
    /// Already fired before (its unique run key exists): nothing ran.
    case duplicate
}
