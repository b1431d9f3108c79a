/// The life of one task (SPEC §2).
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed
    case timedOut = "timed_out"
    case cancelled, skipped

    /// Whether the task will not run again.
    public var isTerminal: Bool {
        switch self {
        case .pending, .running: return false
        default: return true
        }
    }
}

/// The life of one run (SPEC §2).
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed
    case timedOut = "timed_out"
    case cancelled

    /// Whether the run has ended.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: return false
        default: return true
        }
    }
}
