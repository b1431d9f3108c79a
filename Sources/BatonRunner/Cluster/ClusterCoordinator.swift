import BatonCore
import Foundation
import Logging
import Synchronization

/// A node's membership in a cluster (issue 9), on one thread: it heartbeats, takes over the
/// runs of lost nodes, stops what this node runs of runs it lost, holds the cron lease,
/// and carries out commands other nodes queued for this node's runs.
///
/// It sleeps on the database's LISTEN connection between heartbeats, so a cancel sent to
/// another node, a changed workflow or a node's clean stop wakes it at once; the heartbeat
/// is also the polling fallback for all three.
public final class ClusterCoordinator: Sendable {
    /// Timings of the membership protocol.
    public struct Timing: Sendable {
        /// How long a node may be silent before its runs and leases are taken over.
        public var leaseSeconds: Double
        /// How often a node heartbeats (a third of the lease leaves two chances to renew).
        public var heartbeatSeconds: Double

        public init(leaseSeconds: Double) {
            self.leaseSeconds = leaseSeconds
            heartbeatSeconds = min(1, leaseSeconds / 3)
        }
    }

    /// The lease name of the one node that fires cron schedules.
    public static let cronLease = "cron"

    private let loop: ClusterCoordinatorLoop
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - onCronLeadership: on the coordinator thread, true when this node starts firing
    ///     cron schedules, false when it must stop (lease lost or shutdown).
    ///   - onWorkflowsChanged: another node changed stored workflows.
    ///   - events: live events shared with the other nodes (nil: this node's clients see
    ///     only its own runs).
    public init(
        store: any ClusterStore, node: ClusterNode, executor: Executor, logger: Logger, timing: Timing,
        onCronLeadership: @escaping @Sendable (Bool) -> Void, onWorkflowsChanged: @escaping @Sendable () -> Void,
        events: ClusterEventSharing? = nil
    ) {
        loop = ClusterCoordinatorLoop(
            store: store, node: node, executor: executor, logger: logger, timing: timing,
            onCronLeadership: onCronLeadership, onWorkflowsChanged: onWorkflowsChanged, events: events)
    }

    /// Registers this node, takes over what lost nodes left, then starts the thread.
    ///
    /// - Throws: when the node cannot be registered.
    public func start() throws {
        try loop.store.registerNode(loop.node)
        loop.beat()
        let thread = Thread { [self] in
            loop.run(until: { stopping.load(ordering: .acquiring) })
            finished.signal()
        }
        thread.name = "baton-cluster"
        thread.start()
    }

    /// Stops the thread: no more commands, wake-ups or take-overs are passed to the
    /// executor. Call BEFORE the executor shuts down (a cancel from another node would
    /// otherwise wait forever for an executor that no longer reads its inbox).
    public func stopListening() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    /// Gives up the cron lease and marks this node stopped, so the other nodes take over its
    /// unfinished runs at once. Call AFTER the executor shut down (its tasks are recorded
    /// as interrupted by then).
    public func leave() {
        stopListening()
        loop.leave()
    }
}

/// The coordinator thread's state.
///
/// `@unchecked Sendable`: built before the thread starts, then touched only by it (and by
/// `leave`, after the thread has ended).
final class ClusterCoordinatorLoop: @unchecked Sendable {
    let store: any ClusterStore
    /// Task attempts shared with other nodes (nil: this node runs only its own runs' tasks).
    let dispatch: (any TaskDispatch)?
    let node: ClusterNode
    let executor: Executor
    let logger: Logger
    let timing: ClusterCoordinator.Timing
    let onCronLeadership: @Sendable (Bool) -> Void
    let onWorkflowsChanged: @Sendable () -> Void
    let events: ClusterEventSharing?
    var leadsCron = false
    var lastBeat = Date()
    var failing = false

    init(
        store: any ClusterStore, node: ClusterNode, executor: Executor, logger: Logger,
        timing: ClusterCoordinator.Timing, onCronLeadership: @escaping @Sendable (Bool) -> Void,
        onWorkflowsChanged: @escaping @Sendable () -> Void, events: ClusterEventSharing?
    ) {
        self.store = store
        self.events = events
        self.dispatch = store as? any TaskDispatch
        self.node = node
        self.executor = executor
        self.logger = logger
        self.timing = timing
        self.onCronLeadership = onCronLeadership
        self.onWorkflowsChanged = onWorkflowsChanged
    }

    func run(until stopping: () -> Bool) {
        var nextBeat = Date().addingTimeInterval(timing.heartbeatSeconds)
        while !stopping() {
            let wakeUps = store.waitForWakeUp(timeout: max(0, nextBeat.timeIntervalSinceNow))
            if stopping() { return }
            if wakeUps.contains("commands") { carryOutCommands() }
            if wakeUps.contains("workflows") { onWorkflowsChanged() }
            if wakeUps.contains("stopped") { adopt() }
            if wakeUps.contains("watching") { events?.othersWatch.set(true) }
            if wakeUps.contains("events") { takeRelayedEvents() }
            let news = Set(wakeUps).intersection(["work", "done", "stops"])
            if !news.isEmpty { executor.clusterNews(news) }
            if Date() >= nextBeat {
                beat()
                nextBeat = Date().addingTimeInterval(timing.heartbeatSeconds)
            }
        }
    }

    /// One heartbeat. First what this node lost while it could not heartbeat (frozen, cut
    /// off): its processes of those runs are killed before it claims to be alive again.
    func beat() {
        do {
            let lost = try store.lostRuns()
            if !lost.isEmpty {
                logger.warning(
                    "runs were taken over by other nodes", metadata: ["runs": "\(lost.joined(separator: ","))"])
                executor.abandon(runIDs: lost)
            }
            let watchers = events?.watchers() ?? 0
            let renewedAt = ContinuousClock.now
            let othersWatch = try store.heartbeat(
                busySlots: executor.stats.localProcesses, watchers: watchers, leaseSeconds: timing.leaseSeconds)
            events?.othersWatch.recorded(watchers: watchers)
            events?.othersWatch.set(othersWatch)
            lastBeat = Date()
            if failing {
                failing = false
                logger.notice("cluster heartbeat restored")
            }
            adopt()
            setCronLeadership(try store.holdLease(ClusterCoordinator.cronLease, seconds: timing.leaseSeconds))
            shareEventsAfterBeat(recorded: watchers)
            carryOutCommands()
            if let dispatch {
                executor.clusterNews(
                    [],
                    beat: ClusterBeat(
                        slots: try dispatch.liveSlots(leaseSeconds: timing.leaseSeconds),
                        leaseSeconds: timing.leaseSeconds, renewedAt: renewedAt))
            }
        } catch {
            if !failing {
                failing = true
                logger.error("cluster heartbeat failed", metadata: ["error": "\(error)"])
            }
            // Past the lease another node may hold the cron lease: stop firing here.
            if Date().timeIntervalSince(lastBeat) >= timing.leaseSeconds { setCronLeadership(false) }
        }
    }

    func adopt() {
        do {
            for adopted in try store.adoptLostRuns(leaseSeconds: timing.leaseSeconds) {
                let lost = adopted.lostNode ?? "(none)"
                logger.warning(
                    "took over the runs of a lost node",
                    metadata: ["node": "\(lost)", "runs": "\(adopted.runs.count)"])
                executor.adopt(adopted.runs, interruption: "interrupted: node \(lost) lost")
            }
        } catch {
            logger.error("could not take over the runs of lost nodes", metadata: ["error": "\(error)"])
        }
    }

    func takeRelayedEvents() {
        guard let events, let relay = store as? any EventRelay else { return }
        events.received(relay.takeRelayedEvents())
    }

    /// After the heartbeat recorded `recorded` watchers: a first watcher that came while it
    /// was written (its own announcement possibly overwritten) is announced again, and the
    /// cron lease holder drops relayed events nobody fetched.
    func shareEventsAfterBeat(recorded: Int) {
        guard let events, let relay = store as? any EventRelay else { return }
        if recorded == 0 && events.watchers() > 0 {
            do {
                try relay.announceWatching()
                events.othersWatch.recorded(watchers: 1)
            } catch {
                logger.warning("could not tell the other nodes about new watchers", metadata: ["error": "\(error)"])
            }
        }
        if leadsCron {
            do {
                try relay.pruneRelayedEvents()
            } catch {
                logger.warning("could not drop old relayed events", metadata: ["error": "\(error)"])
            }
        }
    }

    func carryOutCommands() {
        do {
            for command in try store.takeCommands() {
                switch command.kind {
                case .cancel:
                    logger.info("cancel from another node", metadata: ["run": "\(command.runID)"])
                    _ = executor.cancel(runID: command.runID)
                }
            }
        } catch {
            logger.error("could not read commands from other nodes", metadata: ["error": "\(error)"])
        }
    }

    func setCronLeadership(_ leads: Bool) {
        guard leads != leadsCron else { return }
        leadsCron = leads
        logger.info(leads ? "this node fires the cron schedules" : "this node stopped firing the cron schedules")
        onCronLeadership(leads)
    }

    /// After the thread ended: stop firing, hand the lease and the runs over at once.
    func leave() {
        setCronLeadership(false)
        try? store.releaseLease(ClusterCoordinator.cronLease)
        do {
            try store.markStopped()
        } catch {
            logger.error("could not mark this node stopped", metadata: ["error": "\(error)"])
        }
    }
}
