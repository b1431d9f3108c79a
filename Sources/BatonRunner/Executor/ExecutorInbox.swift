import BatonCore
import Foundation
import Synchronization

/// A request to the executor thread.
enum ExecutorMessage: Sendable {
    case submit(RunRecord, WorkflowSpec, [TaskRecord]?, [String: String])
    case cancel(String, Reply<Executor.CancelResult>)
    case shutdown(Reply<Void>)
    /// Cluster mode: runs this node took over from a lost node, and why their running
    /// tasks stopped.
    case adopt([RunRecord], String)
    /// Cluster mode: runs another node took over; stop their tasks here, write nothing.
    case abandon([String])
    /// Cluster mode: wake-ups from other nodes (`work`, `done`, `stops`), or the heartbeat
    /// (with the cluster's slots and the lease).
    case clusterNews(Set<String>, beat: ClusterBeat?)
}

/// The executor's mailbox: any thread posts, the loop drains, a reactor wake-up joins the
/// two. A `Mutex` because posters include libmicrohttpd's C threads.
final class ExecutorInbox: Sendable {
    private struct State {
        var messages: [ExecutorMessage] = []
        var waker: ReactorWaker?
    }
    private let state = Mutex(State())

    func attach(waker: ReactorWaker) {
        let pending = state.withLock { state -> Bool in
            state.waker = waker
            return !state.messages.isEmpty
        }
        if pending { waker.wake() }
    }

    func post(_ message: ExecutorMessage) {
        let waker = state.withLock { state -> ReactorWaker? in
            state.messages.append(message)
            return state.waker
        }
        waker?.wake()
    }

    func drain() -> [ExecutorMessage] {
        state.withLock { state in
            defer { state.messages.removeAll() }
            return state.messages
        }
    }
}

/// A one-shot answer from the executor thread to a blocked caller.
final class Reply<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let semaphore = DispatchSemaphore(value: 0)

    func send(_ result: Value) {
        value.withLock { $0 = result }
        semaphore.signal()
    }

    func wait() -> Value {
        semaphore.wait()
        return value.withLock { $0! }
    }
}
