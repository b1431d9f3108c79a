import ArgumentParser

/// The exit codes of `baton` (documented in the README).
enum BatonExit {
    /// The run succeeded / the spec is valid.
    static let success = ExitCode(0)
    /// The run failed (a task failed or timed out) / the spec is invalid (`validate`).
    static let failed = ExitCode(1)
    /// The spec could not be read or is invalid (`run`), or the server could not start.
    static let badInput = ExitCode(2)
    /// The run hit its `timeout_seconds`.
    static let timedOut = ExitCode(3)
    /// The run was cancelled.
    static let cancelled = ExitCode(4)
    /// Interrupted by SIGINT (128 + 2) or SIGTERM (128 + 15): tasks stopped and recorded.
    static let interrupted = ExitCode(130)
    static let terminated = ExitCode(143)
}
