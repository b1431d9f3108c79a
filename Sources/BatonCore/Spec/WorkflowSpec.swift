import Foundation

/// What a task failure does to the rest of a run (SPEC §2). `runalways` is valid for
/// groups only: such a group still runs after failures, timeouts and a first cancel.
public enum FailureMode: String, Sendable, Codable, CaseIterable {
    case failfast, waitcurrent, waitall, runalways
}

/// How the tasks of a group are started relative to each other.
public enum GroupStrategy: String, Sendable, Codable, CaseIterable {
    case sequential, parallel
}

/// When a task's dependencies count as satisfied.
public enum DependencyTrigger: String, Sendable, Codable, CaseIterable {
    /// Every dependency succeeded.
    case allSuccess = "all_success"
    /// Every dependency ended, whatever its outcome.
    case allDone = "all_done"
}

/// How the delay between retry attempts grows.
public enum RetryBackoff: String, Sendable, Codable, CaseIterable {
    case fixed, exponential
}

/// A command line: a string runs with `/bin/sh -c`, a list is an argv run directly.
public enum CommandLine: Sendable, Equatable, Hashable {
    case shell(String)
    case argv([String])

    /// The argv that is actually executed.
    public var argv: [String] {
        switch self {
        case .shell(let script): return ["/bin/sh", "-c", script]
        case .argv(let words): return words
        }
    }

    /// A one-line rendering for logs and listings.
    public var display: String {
        switch self {
        case .shell(let script): return script
        case .argv(let words): return words.joined(separator: " ")
        }
    }
}

/// A declared stage of a run (SPEC §1 Group).
public struct GroupSpec: Sendable, Equatable {
    public var name: String
    public var strategy: GroupStrategy
    /// nil: the run's mode applies.
    public var mode: FailureMode?
    /// nil: unlimited (parallel groups only).
    public var maxParallel: Int?

    public init(
        name: String, strategy: GroupStrategy = .parallel, mode: FailureMode? = nil,
        maxParallel: Int? = nil
    ) {
        self.name = name
        self.strategy = strategy
        self.mode = mode
        self.maxParallel = maxParallel
    }
}

/// One command of a run (SPEC §1 Task), with every default already applied.
public struct TaskSpec: Sendable, Equatable {
    public var name: String
    public var command: CommandLine
    public var group: String?
    public var dependsOn: [String]
    public var trigger: DependencyTrigger
    /// 0 disables the timeout.
    public var timeoutSeconds: Double
    public var onTimeout: CommandLine?
    public var retries: Int
    public var retryExitCodes: [Int32]
    public var retryDelaySeconds: Double
    public var retryBackoff: RetryBackoff
    public var retryMaxDelaySeconds: Double
    public var critical: Bool
    public var forever: Bool
    public var restartable: Bool
    public var env: [String: String]
    public var cwd: String?
    /// nil: the command runs here; else on that machine, over ssh.
    public var ssh: SSHTarget?
    /// Set for a task that runs a workflow instead of a command (`command` is then unused).
    public var subWorkflow: SubWorkflow?
    /// Cluster mode: the labels a node needs to run this task (`runs_on`), over the run's.
    public var runsOn: [String: String] = [:]

    public init(
        name: String, command: CommandLine, group: String? = nil, dependsOn: [String] = [],
        trigger: DependencyTrigger = .allSuccess, timeoutSeconds: Double = 300,
        onTimeout: CommandLine? = nil, retries: Int = 0, retryExitCodes: [Int32] = [],
        retryDelaySeconds: Double = 0, retryBackoff: RetryBackoff = .fixed,
        retryMaxDelaySeconds: Double = 3600, critical: Bool = false, forever: Bool = false,
        restartable: Bool = true, env: [String: String] = [:], cwd: String? = nil,
        ssh: SSHTarget? = nil, subWorkflow: SubWorkflow? = nil
    ) {
        self.ssh = ssh
        self.subWorkflow = subWorkflow
        self.name = name
        self.command = command
        self.group = group
        self.dependsOn = dependsOn
        self.trigger = trigger
        self.timeoutSeconds = timeoutSeconds
        self.onTimeout = onTimeout
        self.retries = retries
        self.retryExitCodes = retryExitCodes
        self.retryDelaySeconds = retryDelaySeconds
        self.retryBackoff = retryBackoff
        self.retryMaxDelaySeconds = retryMaxDelaySeconds
        self.critical = critical
        self.forever = forever
        self.restartable = restartable
        self.env = env
        self.cwd = cwd
    }
}

/// An outgoing notification sent when a run ends with one of the listed statuses.
public struct NotifySpec: Sendable, Equatable {
    public var url: String
    public var on: [RunStatus]
    public var secret: String?

    public init(url: String, on: [RunStatus] = [.failed, .timedOut], secret: String? = nil) {
        self.url = url
        self.on = on
        self.secret = secret
    }
}

/// A validated workflow: the run-level settings, its groups and its tasks (SPEC §1).
public struct WorkflowSpec: Sendable, Equatable {
    public var name: String
    public var mode: FailureMode
    /// nil: unlimited.
    public var maxParallel: Int?
    /// nil: no run deadline.
    public var timeoutSeconds: Double?
    public var killGraceSeconds: Double
    public var env: [String: String]
    public var groups: [GroupSpec]
    public var tasks: [TaskSpec]
    public var notify: [NotifySpec]
    /// Cluster mode: the labels a node needs to run the run's tasks (`runs_on`); a task's
    /// own `runs_on` adds to them and wins on a shared key.
    public var runsOn: [String: String] = [:]

    public init(
        name: String = "run", mode: FailureMode = .waitcurrent, maxParallel: Int? = nil,
        timeoutSeconds: Double? = nil, killGraceSeconds: Double = 10,
        env: [String: String] = [:], groups: [GroupSpec] = [], tasks: [TaskSpec],
        notify: [NotifySpec] = []
    ) {
        self.name = name
        self.mode = mode
        self.maxParallel = maxParallel
        self.timeoutSeconds = timeoutSeconds
        self.killGraceSeconds = killGraceSeconds
        self.env = env
        self.groups = groups
        self.tasks = tasks
        self.notify = notify
    }
}
