import Foundation

/// Identifies one task of one run.
public struct TaskRef: Sendable, Hashable, CustomStringConvertible {
    public var runID: String
    public var task: Int

    public init(runID: String, task: Int) {
        self.runID = runID
        self.task = task
    }

    public var description: String { "\(runID)#\(task)" }
}

/// What the executor must start for a task: its command, or its `on_timeout` hook.
public struct SpawnPlan: Sendable, Equatable {
    public var ref: TaskRef
    public var taskName: String
    public var attempt: Int
    public var command: CommandLine
    /// The run's `env` overlaid with the task's; the executor adds its own base and `BATON_*`.
    public var env: [String: String]
    public var cwd: String?
    /// Log file relative to the data directory (see `LogLayout`).
    public var logPath: String
    /// True for the `on_timeout` hook, which appends to the attempt's log.
    public var isTimeoutHook: Bool
    /// Where the command runs: nil here, else over ssh (`cwd` is then the remote one). The
    /// `on_timeout` hook always runs here.
    public var ssh: SSHTarget? = nil
    /// The run's `kill_grace_seconds`, which a remote command also gets between SIGTERM and
    /// SIGKILL once its connection is gone.
    public var killGraceSeconds: Double = 10
    /// Set when the task runs a workflow: the executor starts (or, after a restart, finds)
    /// the child run instead of a process.
    public var subWorkflow: SubWorkflow? = nil
    /// When this attempt started: with the run, task and attempt, it names the child run.
    public var attemptStartedAt: Date? = nil
    /// Cluster mode: the labels the node running it needs (the run's `runs_on` and the
    /// task's); empty: any node.
    public var runsOn: [String: String] = [:]
    /// The task's `restartable`: whether an attempt cut short by a crash may simply run again.
    public var restartable: Bool = true
}

/// The signal a stop sequence sends to a task's process group.
public enum StopSignal: Sendable, Equatable {
    /// SIGTERM: the polite first step.
    case terminate
    /// SIGKILL: the last step, always reached after the grace.
    case kill
}

/// An effect the engine asks its executor to perform; the engine itself does no I/O.
public enum EngineAction: Sendable, Equatable {
    case spawn(SpawnPlan)
    case signal(TaskRef, StopSignal)
    /// The run ended with this status; the executor may notify and forget it.
    case runFinished(runID: String, status: RunStatus)

    public var isSpawn: Bool {
        if case .spawn = self { return true }
        return false
    }
}

/// Where each attempt's output goes, relative to the data directory.
public enum LogLayout {
    /// `logs/<run>/<task index>.<attempt>.log`: indices, not names, so any task name is
    /// safe; one flat directory per run, because creating a directory per task costs more
    /// than spawning the task on ext4 (see bench/README.md).
    public static func relativePath(runID: String, taskIndex: Int, attempt: Int) -> String {
        "logs/\(runID)/\(taskIndex).\(attempt).log"
    }
}
