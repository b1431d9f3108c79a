import BatonCore
import Crypto
import Foundation
import Logging
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Delivers `notify` POSTs (SPEC §1) from the queue persisted in the store, on its own
/// thread so that scheduling never waits on a slow receiver. Retries with exponential
/// backoff on network errors and 5xx, five attempts in all; a restart picks up whatever
/// is still pending.
public final class Notifier: Sendable {
    /// Most attempts per delivery.
    public static let maxAttempts = 5

    let store: any RunStore & NotificationStore
    let logger: Logger
    let baseDelay: Double
    /// Told after each delivery record changes (the Run shows deliveries).
    let onChange: @Sendable (String) -> Void
    /// A delivery ended: delivered (true) or given up (false). For metrics.
    let onResult: @Sendable (Bool) -> Void
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    private struct State {
        var started = false
        var stopping = false
        var inFlight = 0
        /// Runs that ended and whose notifications are not yet due or skipped.
        var finished: [(String, RunStatus)] = []
    }

    /// - Parameter baseDelay: seconds before the first retry; doubled for each next one.
    public init(
        store: any RunStore & NotificationStore, logger: Logger, baseDelay: Double = 1,
        onChange: @escaping @Sendable (String) -> Void = { _ in },
        onResult: @escaping @Sendable (_ delivered: Bool) -> Void = { _ in }
    ) {
        self.onResult = onResult
        self.onChange = onChange
        self.store = store
        self.logger = logger
        self.baseDelay = baseDelay
    }

    /// Starts the delivery thread.
    public func start() {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        // Runs that ended while a previous process was about to settle their deliveries
        // (it died or stopped first): settle them now, or they would wait forever.
        let waiting = (try? store.runsWithWaitingNotifications()) ?? []
        for runID in waiting {
            if let run = try? store.run(id: runID), run.status.isTerminal {
                state.withLock { $0.finished.append((runID, run.status)) }
            }
        }
        let thread = Thread { [self] in loop() }
        thread.name = "baton-notifier"
        thread.start()
    }

    /// A run ended (called on the executor thread: only queues, returns at once).
    public func runFinished(runID: String, status: RunStatus) {
        state.withLock { $0.finished.append((runID, status)) }
        wakeup.signal()
    }

    /// Makes a finished run's waiting notifications due (with the final RunSummary as the
    /// body), or skipped when `on` does not list the status.
    func settleFinishedRun(runID: String, status: RunStatus) {
        do {
            guard !(try store.notifications(runID: runID)).isEmpty else { return }
            guard let stored = try store.run(id: runID) else { return }
            let spec = try SpecParser.parse(stored.specJSON, format: .json, maxTasks: Int.max)
            let run = stored
            let summary = RunDocument(summary: run, counts: try store.taskCounts(runID: runID))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = try encoder.encode(summary)
            let records = try store.notifications(runID: runID)
            for var record in records where record.status == .waiting && record.index < spec.notify.count {
                if spec.notify[record.index].on.contains(status) {
                    record.status = .pending
                    record.body = body
                    record.nextAttemptAt = Date()
                } else {
                    record.status = .skipped
                    record.lastError = "run ended \(status.rawValue), not listed in on"
                }
                try store.updateNotification(record)
            }
            onChange(runID)
        } catch {
            logger.error("could not queue notifications", metadata: ["run": "\(runID)", "error": "\(error)"])
        }
    }

    /// Blocks until nothing is pending (delivered or given up) or `timeout` passes; used by
    /// `baton run` before it exits.
    public func drain(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let pending = (try? store.pendingNotifications()) ?? []
            let busy = state.withLock { $0.inFlight + $0.finished.count }
            if pending.isEmpty && busy == 0 { return }
            wakeup.signal()
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Stops the delivery thread after the delivery in flight.
    public func stop() {
        state.withLock { $0.stopping = true }
        wakeup.signal()
    }

    private func loop() {
        while !state.withLock({ $0.stopping }) {
            // Taken and counted in flight under one lock, so `drain` never sees neither.
            let finished = state.withLock { state in
                defer {
                    state.inFlight += state.finished.count
                    state.finished.removeAll()
                }
                return state.finished
            }
            for (runID, status) in finished { settleFinishedRun(runID: runID, status: status) }
            state.withLock { $0.inFlight -= finished.count }
            let pending = (try? store.pendingNotifications()) ?? []
            let now = Date()
            var nextDue: Date?
            for record in pending {
                guard let due = record.nextAttemptAt else { continue }
                if due <= now {
                    state.withLock { $0.inFlight += 1 }
                    deliver(record)
                    state.withLock { $0.inFlight -= 1 }
                } else if nextDue.map({ due < $0 }) ?? true {
                    nextDue = due
                }
            }
            if pending.contains(where: { ($0.nextAttemptAt ?? .distantFuture) <= Date() }) { continue }
            let wait = nextDue.map { max(0.01, $0.timeIntervalSinceNow) } ?? 3600
            _ = wakeup.wait(timeout: .now() + wait)
        }
    }

    private func deliver(_ original: NotificationRecord) {
        var record = original
        record.attempts += 1
        let outcome = Self.post(record)
        switch outcome {
        case .delivered:
            record.status = .delivered
            record.lastError = nil
            record.nextAttemptAt = nil
        case .permanent(let message):
            record.status = .failed
            record.lastError = message
            record.nextAttemptAt = nil
        case .retryable(let message):
            record.lastError = message
            if record.attempts >= Self.maxAttempts {
                record.status = .failed
                record.nextAttemptAt = nil
            } else {
                record.nextAttemptAt = Date().addingTimeInterval(baseDelay * pow(2, Double(record.attempts - 1)))
            }
        }
        logger.info(
            "notification \(record.status.rawValue)",
            metadata: [
                "run": "\(record.runID)", "url": "\(Self.redacted(record.url))", "attempt": "\(record.attempts)",
                "error": "\(record.lastError ?? "")",
            ])
        if record.status == .delivered || record.status == .failed { onResult(record.status == .delivered) }
        do {
            try store.updateNotification(record)
            onChange(record.runID)
        } catch {
            logger.error("could not record a notification", metadata: ["error": "\(error)"])
        }
    }

    /// The URL without its query and user info (they may hold a token, as Slack's do).
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<invalid url>" }
        components.query = nil
        components.user = nil
        components.password = nil
        return components.string ?? "<invalid url>"
    }
}
