/// How a cluster node hands the live events it published to the other nodes (issue 9): as
/// database notifications, whose payloads are text of at most 8,000 bytes.
///
/// A payload is `events:ORIGIN<tab>STAMP` followed by one line per event: kind, run, task
/// and data separated by tabs, each escaped so that it holds no tab or newline. STAMP
/// differs between payloads (PostgreSQL delivers identical payloads of one transaction
/// once). An event too big for a payload of its own travels through a table instead; only
/// its row id is notified.
public enum RelayedEvents {
    /// Below PostgreSQL's 8,000-byte limit on a NOTIFY payload.
    public static let maxPayloadBytes = 7_900
    static let header = "events:"

    /// What `pack` makes of a list of events, in their order.
    public enum Part: Equatable, Sendable {
        /// A payload to notify as is.
        case payload(String)
        /// One event's line, too big for a payload: stored, and its id notified.
        case oversized(String)
    }

    /// The events as payloads of at most ``maxPayloadBytes``, in order; each event is in
    /// exactly one part. `stamp` makes this call's payloads unlike any other's.
    public static func pack(_ events: [ServerEvent], origin: String, stamp: UInt64 = 0) -> [Part] {
        let prefix = header + origin + "\t" + String(stamp, radix: 36) + "."
        var parts: [Part] = []
        var start = prefix + "0"
        var payload = start
        // Ends the payload being filled, if it holds any event, and starts the next one.
        func close() {
            guard payload != start else { return }
            parts.append(.payload(payload))
            start = prefix + String(parts.count)
            payload = start
        }
        for event in events {
            let line = line(of: event)
            if start.utf8.count + 1 + line.utf8.count > maxPayloadBytes {
                close()
                parts.append(.oversized(line))
                continue
            }
            if payload.utf8.count + 1 + line.utf8.count > maxPayloadBytes { close() }
            payload += "\n" + line
        }
        close()
        return parts
    }

    /// The node a payload came from and its events; nil when it is not an events payload.
    public static func unpack(_ payload: String) -> (origin: String, events: [ServerEvent])? {
        guard let origin = origin(of: payload) else { return nil }
        let lines = payload.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        return (origin, lines.compactMap { event(ofLine: $0) })
    }

    /// The node an events payload came from, without decoding its events (a node skips its
    /// own); nil when it is not an events payload.
    public static func origin(of payload: String) -> String? {
        guard payload.hasPrefix(header) else { return nil }
        let first = payload.dropFirst(header.count).prefix { $0 != "\n" }
        return String(first.prefix { $0 != "\t" })
    }

    /// One event as a line without newlines.
    public static func line(of event: ServerEvent) -> String {
        [event.kind.rawValue, escape(event.runID ?? ""), escape(event.task ?? ""), escape(event.data)]
            .joined(separator: "\t")
    }

    /// The event a line holds (its `seq` is 0: the receiver numbers it); nil for a line
    /// from a newer version with an unknown kind.
    public static func event(ofLine line: Substring) -> ServerEvent? {
        let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let kind = EventKind(rawValue: String(fields[0])) else { return nil }
        let run = unescape(fields[1])
        let task = unescape(fields[2])
        return ServerEvent(
            kind: kind, runID: run.isEmpty ? nil : run, task: task.isEmpty ? nil : task, data: unescape(fields[3]))
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String {
        guard text.utf8.contains(0x5C) else { return String(text) }
        var out = ""
        var escaped = false
        for character in text.unicodeScalars {
            if escaped {
                switch character {
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                default: out.unicodeScalars.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
