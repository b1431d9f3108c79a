/// A heartbeat of this node that the database took (cluster mode), as the coordinator
/// tells the executor.
public struct ClusterBeat: Sendable {
    /// Slots of every live node together.
    public var slots: Int
    /// How long a lease lasts without a heartbeat.
    public var leaseSeconds: Double
    /// Taken just before the heartbeat was sent: the lease runs at least `leaseSeconds`
    /// from here, and no other node may take this node's runs before it has expired.
    public var renewedAt: ContinuousClock.Instant

    public init(slots: Int, leaseSeconds: Double, renewedAt: ContinuousClock.Instant) {
        self.slots = slots
        self.leaseSeconds = leaseSeconds
        self.renewedAt = renewedAt
    }

    /// Whether the lease still holds at `now`: the runs are this node's alone.
    public func holds(at now: ContinuousClock.Instant) -> Bool {
        now - renewedAt < .seconds(leaseSeconds)
    }
}
