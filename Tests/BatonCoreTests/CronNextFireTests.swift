import Foundation
import Testing

@testable import BatonCore

/// Next-fire tables on UTC and fixed-offset zones (no daylight saving time involved).
@Suite struct CronNextFireTests {
    private typealias T = CronTestSupport

    @Test func weekdaysFromFridayEveningGoToMonday() {
        // 2026-05-15 is a Friday.
        #expect(
            T.fires("0 9 * * MON-FRI", after: "2026-05-15T18:00:00Z", count: 3) == [
                "2026-05-18T09:00:00Z", "2026-05-19T09:00:00Z", "2026-05-20T09:00:00Z",
            ])
    }

    @Test func everyQuarterHour() {
        #expect(
            T.fires("*/15 * * * *", after: "2026-05-15T10:07:30Z", count: 4) == [
                "2026-05-15T10:15:00Z", "2026-05-15T10:30:00Z", "2026-05-15T10:45:00Z", "2026-05-15T11:00:00Z",
            ])
    }

    @Test func firstOfTheMonth() {
        #expect(
            T.fires("0 0 1 * *", after: "2026-01-31T12:00:00Z", count: 3) == [
                "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z",
            ])
        #expect(
            T.fires("@monthly", after: "2026-12-01T00:00:00Z", count: 2) == [
                "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z",
            ])
    }

    @Test func hourlyIsStrictlyAfter() {
        #expect(
            T.fires("@hourly", after: "2026-05-15T10:00:00Z", count: 2) == [
                "2026-05-15T11:00:00Z", "2026-05-15T12:00:00Z",
            ])
        #expect(T.fires("@hourly", after: "2026-05-15T10:59:59.999Z", count: 1) == ["2026-05-15T11:00:00Z"])
        #expect(T.fires("@hourly", after: "2026-05-15T10:00:00.001Z", count: 1) == ["2026-05-15T11:00:00Z"])
    }

    @Test func secondsField() {
        #expect(
            T.fires("*/10 * * * * *", after: "2026-05-15T10:00:05.500Z", count: 4) == [
                "2026-05-15T10:00:10Z", "2026-05-15T10:00:20Z", "2026-05-15T10:00:30Z", "2026-05-15T10:00:40Z",
            ])
        #expect(
            T.fires("30 59 23 31 12 *", after: "2026-06-01T00:00:00Z", count: 2) == [
                "2026-12-31T23:59:30Z", "2027-12-31T23:59:30Z",
            ])
        #expect(
            T.fires("*/20 * * * * *", after: "2026-05-15T23:59:50Z", count: 2) == [
                "2026-05-16T00:00:00Z", "2026-05-16T00:00:20Z",
            ])
    }

    @Test func leapDay() {
        #expect(
            T.fires("0 0 29 2 *", after: "2025-01-01T00:00:00Z", count: 2) == [
                "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z",
            ])
        #expect(T.fires("30 2 29 2 *", after: "2028-02-29T02:30:00Z", count: 1) == ["2032-02-29T02:30:00Z"])
        // 2100 is not a leap year: the longest wait there is, still within the horizon.
        #expect(T.fires("0 0 29 2 *", after: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29T00:00:00Z"])
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothRestricted() {
        // January 2026: Fridays are the 2nd, 9th, 16th, 23rd, 30th; the 13th is a Tuesday.
        #expect(
            T.fires("0 0 13 * FRI", after: "2026-01-01T00:00:00Z", count: 7) == [
                "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z",
                "2026-01-23T00:00:00Z", "2026-01-30T00:00:00Z", "2026-02-06T00:00:00Z",
            ])
    }

    @Test func dayOfMonthAndDayOfWeekWhenOneIsStar() {
        #expect(
            T.fires("0 0 * * FRI", after: "2026-01-01T00:00:00Z", count: 2) == [
                "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z",
            ])
        #expect(
            T.fires("0 0 13 * ?", after: "2026-01-01T00:00:00Z", count: 2) == [
                "2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z",
            ])
        // A step counts as restricted, so this is "odd days or Mondays".
        #expect(
            T.fires("0 0 */2 * MON", after: "2026-01-01T00:00:00Z", count: 6) == [
                "2026-01-03T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z", "2026-01-09T00:00:00Z",
                "2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z",
            ])
    }

    @Test func monthEndsAndYearEnds() {
        #expect(
            T.fires("0 12 31 * *", after: "2026-01-31T12:00:00Z", count: 3) == [
                "2026-03-31T12:00:00Z", "2026-05-31T12:00:00Z", "2026-07-31T12:00:00Z",
            ])
        #expect(
            T.fires("@yearly", after: "2026-06-01T00:00:00Z", count: 2) == [
                "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
            ])
        #expect(
            T.fires("0 0 * FEB,AUG SUN", after: "2026-01-01T00:00:00Z", count: 3) == [
                "2026-02-01T00:00:00Z", "2026-02-08T00:00:00Z", "2026-02-15T00:00:00Z",
            ])
    }

    @Test func utcSanityTable() {
        let table: [(String, String, [String])] = [
            ("* * * * *", "2026-05-15T10:00:00Z", ["2026-05-15T10:01:00Z", "2026-05-15T10:02:00Z"]),
            ("* * * * * *", "2026-05-15T10:00:59Z", ["2026-05-15T10:01:00Z", "2026-05-15T10:01:01Z"]),
            ("@daily", "2026-05-15T00:00:00Z", ["2026-05-16T00:00:00Z", "2026-05-17T00:00:00Z"]),
            ("@midnight", "2026-12-31T23:59:59Z", ["2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"]),
            // 2026-05-15 is a Friday: the next Sunday is the 17th.
            ("@weekly", "2026-05-15T00:00:00Z", ["2026-05-17T00:00:00Z", "2026-05-24T00:00:00Z"]),
            ("0 9-17/4 * * *", "2026-05-15T09:00:00Z", ["2026-05-15T13:00:00Z", "2026-05-15T17:00:00Z"]),
            ("5/20 * * * *", "2026-05-15T10:46:00Z", ["2026-05-15T11:05:00Z", "2026-05-15T11:25:00Z"]),
            ("0 0 1 JAN,JUL *", "2026-01-01T00:00:00Z", ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"]),
            ("0 0 * * 7", "2026-05-15T00:00:00Z", ["2026-05-17T00:00:00Z", "2026-05-24T00:00:00Z"]),
            ("59 23 * * SAT", "2026-05-16T23:59:00Z", ["2026-05-23T23:59:00Z", "2026-05-30T23:59:00Z"]),
        ]
        for (expression, after, expected) in table {
            #expect(T.fires(expression, after: after, count: 2) == expected, "\(expression)")
        }
    }

    @Test func fixedOffsetZones() {
        #expect(
            T.fires("0 9 * * *", after: "2026-05-15T00:00:00Z", in: "Asia/Kolkata", count: 2) == [
                "2026-05-15T09:00:00+05:30", "2026-05-16T09:00:00+05:30",
            ])
        let plusTwo = TimeZone(secondsFromGMT: 2 * 3600)!
        let next = (try? CronExpression.parse("0 0 * * *"))?.nextFire(
            after: T.instant("2026-05-15T12:00:00Z"), in: plusTwo)
        #expect(next == T.instant("2026-05-15T22:00:00Z"))
    }

    @Test func matchesOnlyFireSeconds() throws {
        let cron = try CronExpression.parse("*/15 9 * * MON-FRI")
        #expect(cron.matches(T.instant("2026-05-15T09:45:00Z"), in: .gmt))
        #expect(cron.matches(T.instant("2026-05-15T09:45:00.750Z"), in: .gmt))
        #expect(!cron.matches(T.instant("2026-05-15T09:46:00Z"), in: .gmt))
        #expect(!cron.matches(T.instant("2026-05-15T09:45:01Z"), in: .gmt))
        #expect(!cron.matches(T.instant("2026-05-16T09:45:00Z"), in: .gmt))
    }

    @Test func countBelowOneGivesNothing() throws {
        let cron = try CronExpression.parse("* * * * *")
        #expect(cron.nextFireTimes(after: T.instant("2026-05-15T00:00:00Z"), in: .gmt, count: 0).isEmpty)
        #expect(cron.nextFireTimes(after: T.instant("2026-05-15T00:00:00Z"), in: .gmt, count: -3).isEmpty)
    }

    @Test func unreachableDatesGiveNil() throws {
        let cron = try CronExpression.parse("0 0 * * *")
        #expect(cron.nextFire(after: .distantFuture, in: .gmt) != nil)
        #expect(cron.nextFire(after: Date(timeIntervalSince1970: .infinity), in: .gmt) == nil)
    }

    @Test func thousandSchedulesAreCheap() throws {
        let paris = T.zone("Europe/Paris")
        let expressions = (0..<1000).map { index in
            switch index % 5 {
            case 0: "\(index % 60) * * * *"
            case 1: "*/\(index % 30 + 1) * * * * *"
            case 2: "0 \(index % 24) * * MON-FRI"
            case 3: "30 2 29 2 *"
            default: "0 0 \(index % 28 + 1) * *"
            }
        }
        let crons = try expressions.map { try CronExpression.parse($0) }
        let start = ContinuousClock.now
        var now = T.instant("2026-10-25T00:30:00Z")
        var found = 0
        for _ in 0..<5 {
            for cron in crons where cron.nextFire(after: now, in: paris) != nil { found += 1 }
            now += 1
        }
        let elapsed = ContinuousClock.now - start
        #expect(found == 5000)
        // About 10 ms on a laptop; the bound is generous for a loaded CI machine.
        #expect(elapsed < .seconds(2), "5,000 next-fire computations took \(elapsed)")
    }
}
