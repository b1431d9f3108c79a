/// Cluster mode: the live events of one node reach clients of every node (issue 9). A node
/// relays the events it publishes while another live node has watchers (event streams or
/// long-polls), and republishes the events other nodes relayed to it.
public protocol EventRelay: Sendable {
    /// Sends events this node published (in order) to the other nodes.
    func relay(_ events: [ServerEvent]) throws
    /// Tells the other nodes at once that this node has watchers now, so they start
    /// relaying before their next heartbeat finds out.
    func announceWatching() throws
    /// The events other nodes relayed since the last call, in the order they were sent
    /// (``ClusterStore/waitForWakeUp(timeout:)`` says `events` when there are some). Events
    /// too big for a notification are read from the database: lost if it is away.
    func takeRelayedEvents() -> [ServerEvent]
    /// Drops relayed events older than a minute (one node does it, on its heartbeat).
    func pruneRelayedEvents() throws
}
