import BatonCore
import Synchronization

/// Fans the executor's run-finished callback out to every interested part (notifications,
/// the cron ticker's `queue` policy); parts may subscribe after the executor started.
public final class RunFinishedListeners: Sendable {
    public typealias Listener = @Sendable (String, RunStatus) -> Void
    private let listeners = Mutex<[Listener]>([])

    public init() {}

    public func add(_ listener: @escaping Listener) {
        listeners.withLock { $0.append(listener) }
    }

    /// Calls every listener (on the executor thread: listeners must return quickly).
    public func notify(runID: String, status: RunStatus) {
        for listener in listeners.withLock({ $0 }) { listener(runID, status) }
    }
}
