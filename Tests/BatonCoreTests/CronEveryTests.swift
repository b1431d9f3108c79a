import Foundation
import Testing

@testable import BatonCore

/// `@every`: elapsed time anchored at the Unix epoch, blind to zones and DST.
@Suite struct CronEveryTests {
    private typealias T = CronTestSupport

    @Test func thirtySecondsAnchoredAtTheEpoch() {
        #expect(
            T.fires("@every 30s", after: "2026-05-15T10:00:07Z", count: 3) == [
                "2026-05-15T10:00:30Z", "2026-05-15T10:01:00Z", "2026-05-15T10:01:30Z",
            ])
        #expect(T.fires("@every 30s", after: "2026-05-15T10:00:30Z", count: 1) == ["2026-05-15T10:01:00Z"])
        #expect(T.fires("@every 30s", after: "2026-05-15T10:00:29.999Z", count: 1) == ["2026-05-15T10:00:30Z"])
    }

    @Test func sameInstantsWhateverTheStartingPoint() throws {
        // A restarted server asking from another instant lands on the same grid.
        let cron = try CronExpression.parse("@every 1h30m")
        let early = cron.nextFireTimes(after: T.instant("2026-05-15T00:00:00Z"), in: .gmt, count: 6)
        let late = cron.nextFireTimes(after: T.instant("2026-05-15T03:17:12Z"), in: .gmt, count: 3)
        #expect(Array(early[2..<5]) == late)
        for date in early {
            #expect(date.timeIntervalSince1970.truncatingRemainder(dividingBy: 5400) == 0)
        }
    }

    @Test func ignoresTheZoneAndDaylightSaving() {
        // Across the Paris fall-back, @every 30m keeps firing every 30 minutes of real time.
        #expect(
            T.fires("@every 30m", after: "2026-10-25T00:20:00Z", in: "Europe/Paris", count: 4) == [
                "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00",
            ])
        // 10:04 UTC is the first multiple of 420 s since the epoch after 10:00 UTC.
        #expect(T.fires("@every 7m", after: "2026-05-15T10:00:00Z", count: 1) == ["2026-05-15T10:04:00Z"])
        #expect(
            T.fires("@every 7m", after: "2026-05-15T10:00:00Z", in: "Asia/Kolkata", count: 1) == [
                "2026-05-15T15:34:00+05:30"
            ])
    }

    @Test func matchesMultiplesOfTheInterval() throws {
        let cron = try CronExpression.parse("@every 15m")
        #expect(cron.matches(T.instant("2026-05-15T10:45:00Z"), in: .gmt))
        #expect(!cron.matches(T.instant("2026-05-15T10:46:00Z"), in: .gmt))
    }
}
