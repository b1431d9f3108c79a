import BatonAPI
import BatonRunner

extension ClusterEvents {
    /// For ``ClusterCoordinator``: this node's watchers and where relayed events go.
    func sharing(live: LiveEvents) -> ClusterEventSharing {
        ClusterEventSharing(
            watchers: { [hub = live.hub] in hub.listenerCount }, othersWatch: othersWatch,
            received: { [live] in live.remoteEvents($0) })
    }
}
