import Foundation

extension CronExpression {
    /// The first fire time strictly after `date`, or nil when there is none within
    /// `searchHorizonYears`.
    ///
    /// Calendar fields are read on the wall clock of `timeZone`, with the daylight saving
    /// rules described on `CronExpression`: a wall-clock time skipped by a spring-forward
    /// gap does not fire; one repeated by a fall-back overlap fires once, at its first
    /// occurrence (asked from inside the second pass, the next fire is after the overlap).
    /// `@every` ignores the zone. Cost: a few time zone look-ups and a field-by-field jump,
    /// never a scan over seconds or minutes.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        guard let after = Self.wholeSecond(containing: date) else { return nil }
        return nextFire(afterSecond: after, in: timeZone, localHorizon: Self.horizonSeconds)
            .map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The next `count` fire times strictly after `date`, in order (fewer when the search
    /// horizon ends first; empty for a `count` below 1).
    public func nextFireTimes(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var times: [Date] = []
        var cursor = date
        while times.count < count, let next = nextFire(after: cursor, in: timeZone) {
            times.append(next)
            cursor = next
        }
        return times
    }

    /// Whether the whole second containing `date` is a fire time in `timeZone`: its wall
    /// clock matches every field and it is not the second pass through a repeated hour
    /// (for `@every`, whether it is a multiple of the interval).
    public func matches(_ date: Date, in timeZone: TimeZone) -> Bool {
        guard let second = Self.wholeSecond(containing: date) else { return false }
        // Searching one second of local time is cheap: one segment, one field check.
        return nextFire(afterSecond: second - 1, in: timeZone, localHorizon: 1) == second
    }

    /// The first fire time, in seconds since the epoch, strictly after second `after`.
    private func nextFire(afterSecond after: Int64, in timeZone: TimeZone, localHorizon: Int64) -> Int64? {
        switch schedule {
        case .interval(let seconds):
            // Multiples of the interval since the epoch: the same instants on every restart.
            return (CronCivil.floorDiv(after, seconds) + 1) * seconds
        case .calendar(let fields):
            return fields.nextFire(afterSecond: after, in: timeZone, localHorizon: localHorizon)
        }
    }

    /// `searchHorizonYears` in seconds (leap years included).
    private static var horizonSeconds: Int64 { Int64(searchHorizonYears) * 366 * CronCivil.secondsPerDay }

    /// `floor(date)` in seconds since the epoch, or nil for dates no schedule can reach
    /// (not finite, or beyond ±10¹⁴ seconds: about three million years).
    private static func wholeSecond(containing date: Date) -> Int64? {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, abs(seconds) < 1e14 else { return nil }
        return Int64(seconds)
    }
}

extension CronCalendarFields {
    /// The first instant (seconds since the epoch) strictly after `after` whose wall clock
    /// in `zone` matches, first occurrences only, looking `localHorizon` seconds ahead.
    ///
    /// Walks the zone's constant-offset segments (between two transitions). Inside one, a
    /// wall-clock time maps to exactly one instant, so the search there is on local time
    /// alone. Wall-clock times an earlier segment already covered (the repeated hour after
    /// clocks go back) are excluded, which makes repeated times fire only at their first
    /// occurrence; wall-clock times no segment covers (the skipped hour) never come up.
    /// The walk starts two days early so that, asked from inside a second pass, it knows
    /// which wall-clock times the first pass already covered.
    func nextFire(afterSecond after: Int64, in zone: TimeZone, localHorizon: Int64) -> Int64? {
        let lookBack = 2 * CronCivil.secondsPerDay
        let firstCandidate = after + 1
        let localLimit = firstCandidate + Self.offset(of: zone, at: firstCandidate) + localHorizon
        var segmentStart = after - lookBack
        var coveredLocalEnd = Int64.min
        // Real zones change offset a few times a year; the cap only guards against a zone
        // database answering transitions that do not move forward.
        for _ in 0..<256 {
            let offset = Self.offset(of: zone, at: segmentStart)
            let segmentEnd = Self.transition(of: zone, after: segmentStart)
            let localStart = max(segmentStart + offset, coveredLocalEnd, firstCandidate + offset)
            let localEnd = segmentEnd.map { min($0 + offset, localLimit) } ?? localLimit
            if localStart < localEnd, let local = firstMatch(fromLocal: localStart, beforeLocal: localEnd) {
                return local - offset
            }
            guard let segmentEnd, segmentEnd + offset < localLimit else { return nil }
            coveredLocalEnd = max(coveredLocalEnd, segmentEnd + offset)
            segmentStart = segmentEnd
        }
        return nil
    }

    /// Seconds to add to UTC to get the wall clock of `zone` at `instant`.
    private static func offset(of zone: TimeZone, at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The next instant after `instant` when the offset of `zone` changes, if any.
    private static func transition(of zone: TimeZone, after instant: Int64) -> Int64? {
        let date = Date(timeIntervalSince1970: TimeInterval(instant))
        guard let next = zone.nextDaylightSavingTimeTransition(after: date) else { return nil }
        let seconds = next.timeIntervalSince1970.rounded(.up)
        guard seconds.isFinite, seconds > TimeInterval(instant), seconds < 1e14 else { return nil }
        return Int64(seconds)
    }
}
