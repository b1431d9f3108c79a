import BatonCore
import Foundation

/// An event relayed by another node, as received: inline in the notification, or stored in
/// `event_relay` (too big for a notification) and fetched when taken.
enum RelayedItem {
    case events([ServerEvent])
    case stored(Int64)
}

// Live events across nodes: notifications on the cluster channel, so a node's clients see
// the runs every node executes. Relaying costs a NOTIFY per batch of events, so a node
// relays only while another node has watchers (the heartbeat tells it).
extension PostgresRunStore: EventRelay {
    static let storedHeader = "evref:"

    public func relay(_ events: [ServerEvent]) throws {
        guard let nodeID, !events.isEmpty else { return }
        var inline: [String?] = []
        try pool.withConnection { connection in
            func flush() throws {
                guard !inline.isEmpty else { return }
                try connection.query(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, position) ORDER BY position",
                    [Self.channel, PGArray.literal(inline)])
                inline.removeAll()
            }
            let stamp = relayStamp.wrappingAdd(1, ordering: .relaxed).newValue
            for part in RelayedEvents.pack(events, origin: nodeID, stamp: stamp) {
                switch part {
                case .payload(let payload):
                    inline.append(payload)
                case .oversized(let line):
                    // In order: what came before is notified before this one.
                    try flush()
                    try connection.query(
                        """
                        WITH stored AS (
                            INSERT INTO event_relay (origin, created_at, body) VALUES ($2, \(Self.now), $3) RETURNING id
                        )
                        SELECT pg_notify($1, '\(Self.storedHeader)' || $2 || E'\\n' || id) FROM stored
                        """, [Self.channel, nodeID, line])
                }
            }
            try flush()
        }
    }

    public func pruneRelayedEvents() throws {
        // SKIP LOCKED: two nodes pruning at once never wait for (or deadlock on) each other.
        try pool.withConnection { connection in
            try connection.query(
                """
                DELETE FROM event_relay WHERE id IN (
                    SELECT id FROM event_relay WHERE created_at < \(Self.now) - 60
                    ORDER BY id LIMIT 10000 FOR UPDATE SKIP LOCKED)
                """)
        }
    }

    public func announceWatching() throws {
        guard let nodeID else { return }
        try pool.withConnection { connection in
            try connection.query(
                """
                WITH mark AS (UPDATE nodes SET watchers = greatest(watchers, 1) WHERE id = $2)
                SELECT pg_notify($1, 'watching:' || $2)
                """, [Self.channel, nodeID])
        }
    }

    public func takeRelayedEvents() -> [ServerEvent] {
        let items = relayedInbox.withLock { inbox in
            defer { inbox.removeAll() }
            return inbox
        }
        let stored = items.compactMap { item -> String? in
            if case .stored(let id) = item { return String(id) }
            return nil
        }
        // A failed fetch loses the stored events only (the database is away), never the
        // inline ones already taken.
        var bodies: [Int64: String] = [:]
        if !stored.isEmpty {
            try? pool.withConnection { connection in
                let rows = try connection.query(
                    "SELECT id, body FROM event_relay WHERE id = ANY($1::bigint[])", [PGArray.literal(stored)])
                for row in 0..<rows.count {
                    if let id = rows.int(row, 0), let body = rows.string(row, 1) { bodies[Int64(id)] = body }
                }
            }
        }
        var events: [ServerEvent] = []
        for item in items {
            switch item {
            case .events(let inline):
                events += inline
            case .stored(let id):
                // Gone when nobody took it within a minute (pruneRelayedEvents).
                if let body = bodies[id], let event = RelayedEvents.event(ofLine: body[...]) { events.append(event) }
            }
        }
        return events
    }

    /// Keeps what another node relayed; false when `payload` is not relayed events (or
    /// this node's own).
    func receiveRelayed(_ payload: String) -> Bool {
        if let origin = RelayedEvents.origin(of: payload) {
            guard origin != nodeID, let (_, events) = RelayedEvents.unpack(payload), !events.isEmpty else {
                return false
            }
            relayedInbox.withLock { $0.append(.events(events)) }
            return true
        }
        guard payload.hasPrefix(Self.storedHeader) else { return false }
        let fields = payload.dropFirst(Self.storedHeader.count).split(separator: "\n")
        guard fields.count == 2, String(fields[0]) != nodeID, let id = Int64(fields[1]) else { return false }
        relayedInbox.withLock { $0.append(.stored(id)) }
        return true
    }
}
