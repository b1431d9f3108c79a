import BatonCore
import Foundation
import Logging

/// Drives the pure `Engine` with real processes: the ninja-shaped loop (start what the
/// limits allow, wait for the next exit or timer, repeat) on ONE dedicated thread that owns
/// the engine, the child reactor and every write to the run store.
///
/// Other threads talk to it through `submit`, `cancel` and `shutdown`, which post to an
/// inbox and wake the loop.
public final class Executor: RunControl {
    public typealias CancelResult = BatonCore.CancelResult

    let configuration: ExecutorConfiguration
    let store: any RunStore
    let logger: Logger
    let inbox: ExecutorInbox
    let observers: ExecutorObservers
    /// Pool and queue figures for metrics, refreshed by the loop.
    public let stats: ExecutorStats

    public init(
        configuration: ExecutorConfiguration, store: any RunStore, logger: Logger,
        onBatch: (@Sendable (StoreBatch) -> Void)? = nil,
        onRunFinished: (@Sendable (RunEnding) -> Void)? = nil,
        onLog: (@Sendable (LogProgress) -> Void)? = nil,
        onRunCreated: (@Sendable (RunRecord, WorkflowSpec, [TaskRecord]) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.inbox = ExecutorInbox()
        self.observers = ExecutorObservers(
            onBatch: onBatch, onRunFinished: onRunFinished, onLog: onLog, onRunCreated: onRunCreated)
        self.stats = ExecutorStats(workers: configuration.workers)
    }

    /// Starts the loop thread, after resuming every unfinished run found in the store
    /// (SPEC §3) and accepted by `resuming`. Throws when the reactor cannot be created or
    /// the store cannot be read.
    public func start(resuming: (RunRecord) -> Bool = { _ in true }) throws {
        let loop = try ExecutorLoop(
            configuration: configuration, store: store, logger: logger, inbox: inbox,
            observers: observers, stats: stats)
        if !ExecutorLoop.becomeSubreaper() {
            logger.warning("cannot become a child subreaper; daemons that tasks start with setsid may outlive them")
        }
        try loop.resumeUnfinishedRuns(now: loop.clock.now(), accept: resuming)
        inbox.attach(waker: loop.reactor.waker)
        let logger = logger
        let thread = Thread {
            // Scheduling first (SchedulingPriority).
            if let refused = SchedulingPriority.raiseCurrentThread() {
                logger.debug("the scheduler thread runs at the server's priority", metadata: ["reason": "\(refused)"])
            }
            loop.run()
        }
        thread.name = "baton-executor"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Hands a run that is already committed to the store to the engine.
    public func submit(
        _ record: RunRecord, spec: WorkflowSpec, tasks: [TaskRecord]? = nil,
        extraEnvironment: [String: String] = [:]
    ) {
        inbox.post(.submit(record, spec, tasks, extraEnvironment))
    }

    /// Cancels a run and returns once the cancel is recorded in the store.
    public func cancel(runID: String) -> CancelResult {
        let reply = Reply<CancelResult>()
        inbox.post(.cancel(runID, reply))
        return reply.wait()
    }

    /// Cluster mode: takes over `runs` from a lost node (resumed as after a restart; their
    /// interrupted tasks get the reason `interruption`).
    public func adopt(_ runs: [RunRecord], interruption: String) {
        inbox.post(.adopt(runs, interruption))
    }

    /// Cluster mode: another node owns these runs now (this one was frozen or cut off past
    /// its lease). Their processes here are killed and nothing more of them is written.
    public func abandon(runIDs: [String]) {
        inbox.post(.abandon(runIDs))
    }

    /// Cluster mode: other nodes woke this one (`work`, `done`, `stops`), or it is the
    /// heartbeat's turn (`beat`: every live node's slots, and the lease).
    public func clusterNews(_ news: Set<String>, beat: ClusterBeat? = nil) {
        inbox.post(.clusterNews(news, beat: beat))
    }

    /// Stops every task (SIGTERM, then SIGKILL after the grace), records them as
    /// interrupted so that the next start resumes them, and ends the loop. Blocks until done.
    public func shutdown() {
        let reply = Reply<Void>()
        inbox.post(.shutdown(reply))
        reply.wait()
    }
}

/// Callbacks run on the executor thread; keep them short.
struct ExecutorObservers: Sendable {
    var onBatch: (@Sendable (StoreBatch) -> Void)?
    var onRunFinished: (@Sendable (RunEnding) -> Void)?
    /// A task's log grew or its attempt ended (live log views).
    var onLog: (@Sendable (LogProgress) -> Void)?
    /// The executor created a run itself (a sub-workflow's child run), once it is stored.
    var onRunCreated: (@Sendable (RunRecord, WorkflowSpec, [TaskRecord]) -> Void)?
}
