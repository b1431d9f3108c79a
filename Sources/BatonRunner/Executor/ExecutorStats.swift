import Synchronization

/// Figures of the worker pool for metrics, written by the executor thread after each round
/// and read by scrapes on any thread (atomics: a scrape never waits for the scheduler).
public final class ExecutorStats: Sendable {
    /// The pool size (`--workers`).
    public let workers: Int
    private let busy = Atomic<Int>(0)
    private let ready = Atomic<Int>(0)
    private let local = Atomic<Int>(0)

    init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Pool slots in use.
    public var busySlots: Int { busy.load(ordering: .relaxed) }
    /// Tasks ready to start and waiting for a slot (or for their run's or group's limit).
    public var readyTasks: Int { ready.load(ordering: .relaxed) }

    /// Processes running on this machine (cluster mode: this node's share of the busy
    /// slots, other nodes' attempts included).
    public var localProcesses: Int { local.load(ordering: .relaxed) }

    func update(busy: Int, ready: Int, local: Int) {
        self.busy.store(busy, ordering: .relaxed)
        self.ready.store(ready, ordering: .relaxed)
        self.local.store(local, ordering: .relaxed)
    }
}
