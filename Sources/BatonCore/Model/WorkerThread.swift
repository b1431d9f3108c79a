import Foundation

/// A thread that sleeps on one condition until it has work, and a stop that waits for it
/// to end: the shape of the live-events pump and of the cluster event relay.
///
/// `@unchecked Sendable`: `running` and `stopping` are guarded by `condition`, which the
/// owner uses for its own queue too (one lock for the queue and the thread's state).
public final class WorkerThread: @unchecked Sendable {
    /// Guards the owner's queue as well as this thread's state; `signal()` it on new work.
    public let condition = NSCondition()
    /// Whether ``stop()`` was called; read it under `condition`.
    public private(set) var stopping = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)
    private let name: String

    public init(name: String) {
        self.name = name
    }

    /// Runs `body` on a thread of its own; `body` returns once it has seen ``stopping``.
    public func start(_ body: @escaping @Sendable () -> Void) {
        condition.withLock { running = true }
        let thread = Thread { [self] in
            body()
            condition.withLock { running = false }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Tells the thread to stop and waits until its body has returned (at once when it
    /// never started).
    public func stop() {
        let wasRunning = condition.withLock {
            stopping = true
            condition.signal()
            return running
        }
        if wasRunning { finished.wait() }
    }
}
