import BatonAPI
import BatonCore
import BatonRunner
import Foundation
import Logging
import Synchronization

/// Cluster mode: wires this node's live events to the other nodes' (issue 9). Its clients
/// see the runs every node executes, and the events it publishes reach the others while
/// some other node has watchers.
final class ClusterEvents: Sendable {
    let relay: any EventRelay
    let othersWatch = RemoteWatchers()
    let logger: Logger
    /// Whether the last relay failed (logged once per outage, not once per batch).
    private let failing = Atomic<Bool>(false)

    init(relay: any EventRelay, logger: Logger) {
        self.relay = relay
        self.logger = logger
    }

    /// For ``EventHub``: a first watcher on this node is announced at once, so that the
    /// other nodes relay before their next heartbeat (off the request's thread).
    func firstListenerArrived() {
        guard othersWatch.shouldAnnounce() else { return }
        DispatchQueue.global().async { [self] in
            do {
                try relay.announceWatching()
            } catch {
                logger.warning("could not tell the other nodes about new watchers", metadata: ["error": "\(error)"])
            }
        }
    }

    /// For ``LiveEvents``: the events this node published, relayed while someone reads them.
    func published(_ events: [ServerEvent]) {
        guard othersWatch.present else { return }
        do {
            try relay.relay(events)
            if failing.exchange(false, ordering: .relaxed) { logger.notice("relaying live events again") }
        } catch {
            if !failing.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "could not relay live events to the other nodes", metadata: ["error": "\(error)"])
            }
        }
    }

    /// For ``ClusterCoordinator``.
    func sharing(live: LiveEvents) -> ClusterEventSharing {
        ClusterEventSharing(
            watchers: { [hub = live.hub] in hub.listenerCount }, othersWatch: othersWatch,
            received: { [live] in live.remoteEvents($0) })
    }
}
