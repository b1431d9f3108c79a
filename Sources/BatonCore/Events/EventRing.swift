/// The last `capacity` events, for replay to clients that reconnect (`Last-Event-ID`).
/// Not thread-safe: its owner locks.
public struct EventRing: Sendable {
    public let capacity: Int
    private var slots: [ServerEvent?]
    /// Sequence number of the newest event (0: none yet).
    public private(set) var latest: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots = [ServerEvent?](repeating: nil, count: self.capacity)
    }

    /// Sequence number of the oldest event still held (latest + 1 when empty).
    public var oldest: UInt64 {
        latest < UInt64(capacity) ? 1 : latest - UInt64(capacity) + 1
    }

    /// Stores `event` as the next in sequence; returns it with its `seq`.
    @discardableResult
    public mutating func append(_ event: ServerEvent) -> ServerEvent {
        var event = event
        latest += 1
        event.seq = latest
        slots[Int((latest - 1) % UInt64(capacity))] = event
        return event
    }

    /// Whether every event after `seq` is still held (so a client that saw `seq` can be
    /// replayed without a gap).
    public func canReplay(after seq: UInt64) -> Bool {
        seq <= latest && seq + 1 >= oldest
    }

    /// Calls `body` with each event after `seq` (at most `limit`), oldest first, without
    /// copying them; returns the last seq visited and the count, or nil when some were
    /// already dropped.
    public func forEach(
        after seq: UInt64, limit: Int, _ body: (borrowing ServerEvent) -> Void
    ) -> (last: UInt64, count: Int)? {
        guard canReplay(after: seq) else { return nil }
        var next = seq + 1
        var count = 0
        while next <= latest && count < limit {
            if let event = slots[Int((next - 1) % UInt64(capacity))] { body(event) }
            count += 1
            next += 1
        }
        return (next - 1, count)
    }

    /// Up to `limit` events after `seq`, oldest first; nil when some were already dropped.
    public func events(after seq: UInt64, limit: Int) -> [ServerEvent]? {
        guard canReplay(after: seq) else { return nil }
        var result: [ServerEvent] = []
        var next = seq + 1
        while next <= latest && result.count < limit {
            if let event = slots[Int((next - 1) % UInt64(capacity))] { result.append(event) }
            next += 1
        }
        return result
    }
}
