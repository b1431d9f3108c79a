import Foundation

/// RFC 3339 times on a zone's wall clock with that zone's offset, whole seconds:
/// `2026-03-29T03:00:00+02:00` (a Workflow's `next_runs`, SPEC §4). UTC reads `+00:00`.
public enum ZonedTimestamp {
    /// `date` (its whole second) as seen in `zone`.
    public static func format(_ date: Date, in zone: TimeZone) -> String {
        let second = date.timeIntervalSince1970.rounded(.down)
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: second))
        // Timestamp renders UTC; shifting by the offset gives the local wall clock, whose
        // `YYYY-MM-DDTHH:MM:SS` prefix is kept.
        let local = Timestamp.format(Date(timeIntervalSince1970: second + TimeInterval(offset)))
        let magnitude = abs(offset)
        let sign = offset < 0 ? "-" : "+"
        return String(local.prefix(19)) + sign + pad(magnitude / 3600) + ":" + pad(magnitude % 3600 / 60)
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
