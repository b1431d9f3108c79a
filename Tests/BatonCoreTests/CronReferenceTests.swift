import Foundation
import Testing

@testable import BatonCore

/// The field-jumping engine against a slow reference that walks minute by minute through
/// real instants and reads each one's wall clock through Foundation's `Calendar`.
@Suite struct CronReferenceTests {
    private typealias T = CronTestSupport

    /// SplitMix64, so the generated cases are the same on every run.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A random field over `low...high`.
    private static func field(_ low: Int, _ high: Int, using rng: inout SeededGenerator) -> String {
        let a = Int.random(in: low...high, using: &rng)
        let b = Int.random(in: a...high, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return "*"
        case 1: return "*/\(Int.random(in: 2...7, using: &rng))"
        case 2: return "\(a)-\(b)"
        case 3: return "\(a),\(b)"
        case 4: return "\(a)-\(b)/\(Int.random(in: 2...4, using: &rng))"
        default: return "\(a)"
        }
    }

    /// The first fire after `after` found by walking minutes, or nil within `minutes`.
    private static func referenceNextFire(
        _ cron: CronExpression, after: Date, zone: TimeZone, minutes: Int
    ) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var instant = (after.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        for _ in 0..<minutes {
            let date = Date(timeIntervalSince1970: instant)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
            if let fields = Self.fields(of: cron),
                fields.minute.contains(parts.minute!), fields.hour.contains(parts.hour!),
                fields.month.contains(parts.month!),
                fields.dayMatches(year: Int64(parts.year!), month: parts.month!, day: parts.day!),
                (parts.weekday! - 1)
                    == CronCivil.weekday(
                        ofDays: CronCivil.days(fromYear: Int64(parts.year!), month: parts.month!, day: parts.day!)),
                !isSecondOccurrence(date, zone: zone)
            {
                return date
            }
            instant += 60
        }
        return nil
    }

    /// Whether the wall-clock time of `date` already happened earlier (clocks went back).
    private static func isSecondOccurrence(_ date: Date, zone: TimeZone) -> Bool {
        let offset = zone.secondsFromGMT(for: date)
        let earlierOffset = zone.secondsFromGMT(for: date - 86_400)
        guard earlierOffset > offset else { return false }
        let earlier = date - TimeInterval(earlierOffset - offset)
        return zone.secondsFromGMT(for: earlier) == earlierOffset
    }

    private static func fields(of cron: CronExpression) -> CronCalendarFields? {
        if case .calendar(let fields) = cron.schedule { return fields }
        return nil
    }

    @Test(arguments: ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Australia/Sydney"])
    func agreesWithAMinuteByMinuteWalkAroundTransitions(zoneIdentifier: String) throws {
        let zone = T.zone(zoneIdentifier)
        var rng = SeededGenerator(state: UInt64(zoneIdentifier.utf8.count) &* 7919)
        // Start points: a day before each transition of 2026, and a few ordinary days.
        var starts: [Date] = [T.instant("2026-06-10T05:17:00Z"), T.instant("2026-12-31T22:59:30Z")]
        var cursor = T.instant("2026-01-01T00:00:00Z")
        while let transition = zone.nextDaylightSavingTimeTransition(after: cursor),
            transition < T.instant("2027-01-01T00:00:00Z")
        {
            starts.append(transition - 86_400 + 1234)
            starts.append(transition - 3600)
            starts.append(transition + 600)
            cursor = transition
        }
        let window = 3 * 24 * 60
        var compared = 0
        for start in starts {
            for _ in 0..<12 {
                let text = [
                    Self.field(0, 59, using: &rng), Self.field(0, 23, using: &rng), "*", "*",
                    Int.random(in: 0..<4, using: &rng) == 0 ? Self.field(0, 6, using: &rng) : "*",
                ].joined(separator: " ")
                let cron = try CronExpression.parse(text)
                let expected = Self.referenceNextFire(cron, after: start, zone: zone, minutes: window)
                let actual = cron.nextFire(after: start, in: zone)
                if let expected {
                    #expect(actual == expected, "\(text) after \(start) in \(zoneIdentifier)")
                } else {
                    #expect(actual.map { $0 > start + TimeInterval(window * 60) } ?? true, "\(text)")
                }
                compared += 1
            }
        }
        #expect(compared >= 24)
    }
}
