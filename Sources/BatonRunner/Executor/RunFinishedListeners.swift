import BatonCore
import Synchronization

/// A run that just ended, as the executor announces it once its final state is stored.
public struct RunEnding: Sendable, Equatable {
    public var runID: String
    public var status: RunStatus
    /// Whether its spec has `notify` entries (so listeners with nothing to do for it can
    /// skip it without a query: at 1,000 runs a second that lookup showed in profiles).
    public var hasNotifications: Bool

    public init(runID: String, status: RunStatus, hasNotifications: Bool) {
        self.runID = runID
        self.status = status
        self.hasNotifications = hasNotifications
    }
}

/// Fans the executor's run-finished callback out to every interested part (notifications,
/// the cron ticker's `queue` policy); parts may subscribe after the executor started.
public final class RunFinishedListeners: Sendable {
    public typealias Listener = @Sendable (RunEnding) -> Void
    private let listeners = Mutex<[Listener]>([])

    public init() {}

    public func add(_ listener: @escaping Listener) {
        listeners.withLock { $0.append(listener) }
    }

    /// Calls every listener (on the executor thread: listeners must return quickly).
    public func notify(_ ending: RunEnding) {
        for listener in listeners.withLock({ $0 }) { listener(ending) }
    }
}
