import BatonCore
import Synchronization

/// How a node's live events reach the other nodes' clients and theirs reach its own
/// (issue 9). The coordinator learns whether another node has watchers (heartbeat, or a
/// `watching` wake-up) and hands over what other nodes relayed; the sender relays this
/// node's events only while ``othersWatch`` says someone would read them.
public struct ClusterEventSharing: Sendable {
    /// This node's watchers now (event streams and long-polls).
    public var watchers: @Sendable () -> Int
    /// Whether another live node has watchers.
    public var othersWatch: RemoteWatchers
    /// Events other nodes relayed, in order (on the coordinator thread).
    public var received: @Sendable ([ServerEvent]) -> Void

    public init(
        watchers: @escaping @Sendable () -> Int, othersWatch: RemoteWatchers,
        received: @escaping @Sendable ([ServerEvent]) -> Void
    ) {
        self.watchers = watchers
        self.othersWatch = othersWatch
        self.received = received
    }
}

/// Whether another live node has watchers, read by the relaying thread on every batch of
/// events (one atomic load) and set by the coordinator.
public final class RemoteWatchers: Sendable {
    private let flag = Atomic<Bool>(false)
    /// Whether this node has told the cluster it has watchers (heartbeat or announcement),
    /// so a new listener announces only when the others may not know.
    private let advertised = Atomic<Bool>(false)

    public init() {}

    public var present: Bool { flag.load(ordering: .relaxed) }

    public func set(_ present: Bool) { flag.store(present, ordering: .relaxed) }

    /// Whether a first listener must be announced now; marks it announced.
    public func shouldAnnounce() -> Bool {
        !advertised.exchange(true, ordering: .relaxed)
    }

    /// What the heartbeat recorded for this node.
    public func recorded(watchers: Int) {
        advertised.store(watchers > 0, ordering: .relaxed)
    }
}
