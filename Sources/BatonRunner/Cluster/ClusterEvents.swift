import BatonCore
import Foundation
import Logging

/// Cluster mode: wires this node's live events to the other nodes' (issue 9). Its clients
/// see the runs every node executes, and the events it publishes reach the others while
/// some other node has watchers.
///
/// Relaying runs on a thread of its own: a slow or unreachable database must never hold
/// up the live-events thread, which serves this node's own streams and long-polls. Its
/// queue is bounded; past the bound, events are dropped (and the drop logged), not kept,
/// and the other nodes' streams get a `reset` with the next events that do go out.
public final class ClusterEvents: @unchecked Sendable {
    // @unchecked Sendable: `pending` and `dropped` are guarded by `condition` (the
    // worker's); `failing` is touched by the relay thread only.
    public let relay: any EventRelay
    public let othersWatch = RemoteWatchers()
    let logger: Logger
    /// Events queued for the relay at most; past it, events are dropped (and a `reset` owed).
    public let maxPending: Int

    private let worker = WorkerThread(name: "baton-event-relay")
    private var condition: NSCondition { worker.condition }
    private var pending: [ServerEvent] = []
    private var dropped = 0
    private var failing = false

    public init(relay: any EventRelay, logger: Logger, maxPending: Int = 20_000) {
        self.relay = relay
        self.logger = logger
        self.maxPending = maxPending
    }

    public func start() {
        worker.start { [self] in loop() }
    }

    /// Stops the thread (before the store closes); what is still queued is not sent.
    public func stop() {
        worker.stop()
    }

    /// For ``EventHub``: a first watcher on this node is announced at once, so that the
    /// other nodes relay before their next heartbeat (off the request's thread).
    public func firstListenerArrived() {
        guard othersWatch.shouldAnnounce() else { return }
        DispatchQueue.global().async { [self] in
            do {
                try relay.announceWatching()
            } catch {
                logger.warning("could not tell the other nodes about new watchers", metadata: ["error": "\(error)"])
            }
        }
    }

    /// For ``LiveEvents``: the events this node published, queued for relaying while
    /// someone on another node reads them.
    public func published(_ events: [ServerEvent]) {
        guard othersWatch.present else { return }
        condition.withLock {
            guard pending.count + events.count <= maxPending else {
                dropped += events.count
                return
            }
            if pending.isEmpty { condition.signal() }
            pending += events
        }
    }

    private func loop() {
        // Events the other nodes' clients missed (dropped here, or a relay that failed):
        // the next relay starts with a `reset`, which tells their streams to refetch.
        var owesReset = false
        while true {
            let (batch, lost, stop) = condition.withLock {
                while pending.isEmpty && dropped == 0 && !worker.stopping { condition.wait() }
                defer {
                    pending.removeAll(keepingCapacity: true)
                    dropped = 0
                }
                return (pending, dropped, worker.stopping)
            }
            if stop { return }
            if lost > 0 {
                owesReset = true
                logger.warning(
                    "dropped live events for the other nodes: relaying fell behind", metadata: ["events": "\(lost)"])
            }
            guard !batch.isEmpty else { continue }
            do {
                try relay.relay(owesReset ? [ServerEvent(kind: .reset, data: "{}")] + batch : batch)
                owesReset = false
                if failing {
                    failing = false
                    logger.notice("relaying live events again")
                }
            } catch {
                owesReset = true
                if !failing {
                    failing = true
                    logger.warning("could not relay live events to the other nodes", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
