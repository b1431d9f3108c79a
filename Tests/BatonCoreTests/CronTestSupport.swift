import Foundation
import Testing

@testable import BatonCore

/// Helpers shared by the cron tests: instants written as RFC 3339 with the zone's offset,
/// so expectations read like wall-clock times.
enum CronTestSupport {
    /// The instant of an RFC 3339 text such as `2026-03-29T03:00:00+02:00`.
    static func instant(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else {
            Issue.record("bad test instant \(text)", sourceLocation: sourceLocation)
            return Date(timeIntervalSince1970: 0)
        }
        return date
    }

    /// A zone that must exist.
    static func zone(_ identifier: String) -> TimeZone {
        guard let zone = TimeZone(identifier: identifier) else {
            Issue.record("unknown zone \(identifier)")
            return TimeZone(secondsFromGMT: 0)!
        }
        return zone
    }

    /// `date` as RFC 3339 with the offset `zone` has at that instant (`Z` for UTC).
    static func text(_ date: Date, in zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = zone
        return formatter.string(from: date)
    }

    /// The next `count` fire times of `expression` after `after`, as wall-clock texts.
    static func fires(
        _ expression: String, after: String, in zoneIdentifier: String = "UTC", count: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        let zone = zone(zoneIdentifier)
        do {
            let cron = try CronExpression.parse(expression)
            return cron.nextFireTimes(after: instant(after, sourceLocation: sourceLocation), in: zone, count: count)
                .map { text($0, in: zone) }
        } catch {
            Issue.record("\(expression): \(error)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// The parse error of `expression`, or nil when it parses.
    static func parseError(_ expression: String) -> CronError? {
        do {
            _ = try CronExpression.parse(expression)
            return nil
        } catch {
            return error
        }
    }
}
