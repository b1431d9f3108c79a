import BatonCore
import Foundation
import Logging
import Synchronization

/// Fires the cron schedules of stored workflows (SPEC §4) on one thread that sleeps until
/// the earliest next instant across enabled, non-paused workflows: no polling, woken early
/// by `workflowsChanged()` (the API changed a workflow), by `runFinished` when an
/// `overlap: queue` fire waits, and by `stop()`.
///
/// What to do is decided by the pure `CronPlanner`; this class only reads the store, carries
/// the decisions out and sleeps. A fire inserts its run under the key
/// `cron:<workflow>:<instant ms>` (UNIQUE in the store) while moving the workflow's
/// watermark in the same transaction, so no instant is fired twice, restarts included.
public final class CronTicker: Sendable {
    /// What the ticker reads and writes.
    public typealias Store = RunStore & WorkflowStore & NotificationStore & RunCreationStore

    private let loop: CronTickerLoop
    private let state = Mutex(Signals())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Flags set by other threads, read by the ticker thread.
    struct Signals {
        var started = false
        var stopping = false
        /// Whether some workflow has a waiting `overlap: queue` fire (then a finished run
        /// is worth a look).
        var hasWaiting = false
    }

    /// - Parameters:
    ///   - control: where fired runs are started (the executor).
    ///   - cores: for the original spec format's group limits.
    ///   - lateAfter: how late an instant may be and still count as on time (`CronPlanner`).
    ///   - onFire: on the ticker thread, for each instant handled (metrics, live events).
    public init(
        store: any Store, control: any RunControl, logger: Logger,
        cores: Int = ProcessInfo.processInfo.activeProcessorCount,
        lateAfter: TimeInterval = CronPlanner.defaultLateAfter,
        onFire: @escaping @Sendable (_ workflow: String, CronOutcome, _ lagSeconds: Double?) -> Void = { _, _, _ in }
    ) {
        loop = CronTickerLoop(
            store: store, control: control, logger: logger, cores: cores, lateAfter: lateAfter, onFire: onFire)
    }

    /// Starts the ticker thread; its first look happens at once (instants missed while the
    /// server was down are handled then, by each workflow's `missed` policy).
    public func start() {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        let thread = Thread { [self] in
            // Fires are due at whole seconds, when the tasks of the previous second keep
            // both cores busy: ahead of them in the CPU queue, the ticker fires on time
            // (best effort: SchedulingPriority).
            _ = SchedulingPriority.raiseCurrentThread()
            run()
            finished.signal()
        }
        thread.name = "baton-cron"
        thread.start()
    }

    /// Re-plan now: a workflow was created, replaced, deleted, paused or resumed.
    public func workflowsChanged() {
        wakeup.signal()
    }

    /// A run ended (called on the executor thread: returns at once). Wakes the ticker only
    /// when a queued fire may be waiting for it.
    public func runFinished(runID: String, status: RunStatus) {
        if state.withLock({ $0.hasWaiting }) { wakeup.signal() }
    }

    /// Stops the thread after the fire in progress and waits for it (no-op if not started).
    public func stop() {
        let started = state.withLock { state in
            state.stopping = true
            return state.started
        }
        guard started else { return }
        wakeup.signal()
        finished.wait()
    }

    private func run() {
        while !state.withLock({ $0.stopping }) {
            // One pass covers every change signalled so far: a burst of 1,000 PUTs is one
            // re-plan, not 1,000 (each pass reads every workflow).
            while wakeup.wait(timeout: .now()) == .success {}
            let wake = loop.tick(now: Date()) { state.withLock { $0.stopping } }
            let waiting = loop.hasWaiting
            state.withLock { $0.hasWaiting = waiting }
            guard let wake else {
                // `stop()` sets the flag, then signals: if the drain above took its signal,
                // the flag is already visible here; otherwise the signal is still pending.
                if state.withLock({ $0.stopping }) { break }
                wakeup.wait()
                continue
            }
            // Sleep on the monotonic clock, at most a minute at a time so that a step of the
            // wall clock is noticed; a millisecond late so the instant is surely due.
            let delay = min(max(wake.timeIntervalSinceNow, 0) + 0.001, 60)
            _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(delay * 1e9)))
        }
    }
}
