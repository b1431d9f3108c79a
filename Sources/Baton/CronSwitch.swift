import BatonCore
import BatonRunner
import Synchronization

/// The cron ticker of a node that may or may not fire the schedules: on a single node it
/// always does; in a cluster only the holder of the cron lease does, and a fresh ticker is
/// started each time this node takes the lease (its first look fires what is due since the
/// watermark, so a takeover misses no instant, and the run keys keep it from doubling any).
final class CronSwitch: Sendable {
    private let makeTicker: @Sendable () -> CronTicker
    private let ticker = Mutex<CronTicker?>(nil)

    init(makeTicker: @escaping @Sendable () -> CronTicker) {
        self.makeTicker = makeTicker
    }

    /// Starts (true) or stops (false) firing here.
    func lead(_ leads: Bool) {
        let previous = ticker.withLock { current -> CronTicker? in
            if leads {
                guard current == nil else { return nil }
                let fresh = makeTicker()
                current = fresh
                fresh.start()
                return nil
            }
            defer { current = nil }
            return current
        }
        previous?.stop()
    }

    func workflowsChanged() {
        ticker.withLock { $0 }?.workflowsChanged()
    }

    func runFinished(runID: String, status: RunStatus) {
        ticker.withLock { $0 }?.runFinished(runID: runID, status: status)
    }
}
