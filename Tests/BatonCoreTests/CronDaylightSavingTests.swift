import Foundation
import Testing

@testable import BatonCore

/// Wall-clock schedules across daylight saving changes: a skipped local time does not
/// fire, a repeated one fires once, at its first occurrence.
@Suite struct CronDaylightSavingTests {
    private typealias T = CronTestSupport

    // Europe/Paris, 2026-03-29: 02:00 CET (+01:00) jumps to 03:00 CEST (+02:00).

    @Test func parisSpringForwardSkipsTheMissingTime() {
        #expect(
            T.fires("30 2 * * *", after: "2026-03-27T12:00:00+01:00", in: "Europe/Paris", count: 3) == [
                "2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00",
            ])
    }

    @Test func parisSpringForwardHourly() {
        #expect(
            T.fires("0 * * * *", after: "2026-03-29T00:30:00+01:00", in: "Europe/Paris", count: 3) == [
                "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00",
            ])
        #expect(
            T.fires("*/30 * * * *", after: "2026-03-29T00:45:00+01:00", in: "Europe/Paris", count: 4) == [
                "2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00",
                "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00",
            ])
    }

    @Test func parisSpringForwardSeconds() {
        #expect(
            T.fires("*/20 * * * * *", after: "2026-03-29T01:59:30+01:00", in: "Europe/Paris", count: 3) == [
                "2026-03-29T01:59:40+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:00:20+02:00",
            ])
    }

    // Europe/Paris, 2026-10-25: 03:00 CEST (+02:00) goes back to 02:00 CET (+01:00).

    @Test func parisFallBackFiresOnce() {
        #expect(
            T.fires("30 2 * * *", after: "2026-10-24T12:00:00+02:00", in: "Europe/Paris", count: 3) == [
                "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00",
            ])
        #expect(
            T.fires("0 30 2 * * *", after: "2026-10-24T12:00:00+02:00", in: "Europe/Paris", count: 2) == [
                "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
            ])
    }

    @Test func parisFallBackEachWallClockTimeOnce() {
        #expect(
            T.fires("*/30 * * * *", after: "2026-10-25T01:10:00+02:00", in: "Europe/Paris", count: 5) == [
                "2026-10-25T01:30:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00",
            ])
        #expect(
            T.fires("0 * * * *", after: "2026-10-25T00:30:00+02:00", in: "Europe/Paris", count: 3) == [
                "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00",
            ])
        #expect(
            T.fires("59 59 2 * * *", after: "2026-10-25T00:00:00+02:00", in: "Europe/Paris", count: 2) == [
                "2026-10-25T02:59:59+02:00", "2026-10-26T02:59:59+01:00",
            ])
    }

    @Test func askedDuringTheSecondPassWaitsForNewWallClockTimes() {
        // 02:10 CET is the second 02:10 of the day: 02:30 already fired at 02:30 CEST.
        #expect(
            T.fires("*/30 * * * *", after: "2026-10-25T02:10:00+01:00", in: "Europe/Paris", count: 2) == [
                "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00",
            ])
        #expect(
            T.fires("30 2 * * *", after: "2026-10-25T02:00:00+01:00", in: "Europe/Paris", count: 1) == [
                "2026-10-26T02:30:00+01:00"
            ])
        // Asked just before the change, from the end of the first pass.
        #expect(
            T.fires("*/30 * * * *", after: "2026-10-25T02:59:59+02:00", in: "Europe/Paris", count: 1) == [
                "2026-10-25T03:00:00+01:00"
            ])
    }

    @Test func matchesOnlyTheFirstPass() throws {
        let paris = T.zone("Europe/Paris")
        let cron = try CronExpression.parse("30 2 * * *")
        #expect(cron.matches(T.instant("2026-10-25T02:30:00+02:00"), in: paris))
        #expect(!cron.matches(T.instant("2026-10-25T02:30:00+01:00"), in: paris))
        #expect(cron.matches(T.instant("2026-10-26T02:30:00+01:00"), in: paris))
        // 01:30 UTC on 2026-03-29 is 03:30 CEST: 02:30 never happened that day.
        #expect(!cron.matches(T.instant("2026-03-29T01:30:00Z"), in: paris))
    }

    // America/New_York, 2026-03-08: 02:00 EST (-05:00) jumps to 03:00 EDT (-04:00).

    @Test func newYorkSpringForward() {
        #expect(
            T.fires("30 2 * * *", after: "2026-03-07T12:00:00-05:00", in: "America/New_York", count: 2) == [
                "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
            ])
        #expect(
            T.fires("0 * * * *", after: "2026-03-08T00:30:00-05:00", in: "America/New_York", count: 3) == [
                "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00",
            ])
    }

    // America/New_York, 2026-11-01: 02:00 EDT (-04:00) goes back to 01:00 EST (-05:00).

    @Test func newYorkFallBack() {
        #expect(
            T.fires("30 1 * * *", after: "2026-10-31T12:00:00-04:00", in: "America/New_York", count: 2) == [
                "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00",
            ])
        #expect(
            T.fires("0 * * * *", after: "2026-11-01T00:30:00-04:00", in: "America/New_York", count: 3) == [
                "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00",
            ])
        #expect(
            T.fires("*/15 * * * *", after: "2026-11-01T01:40:00-04:00", in: "America/New_York", count: 3) == [
                "2026-11-01T01:45:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:15:00-05:00",
            ])
        // Daily at midnight is untouched by the change.
        #expect(
            T.fires("@daily", after: "2026-10-31T12:00:00-04:00", in: "America/New_York", count: 2) == [
                "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00",
            ])
    }

    @Test func halfHourShiftOnLordHowe() {
        // Australia/Lord_Howe, 2026-04-05: 02:00 (+11:00) goes back to 01:30 (+10:30).
        #expect(
            T.fires("*/15 * * * *", after: "2026-04-05T01:20:00+11:00", in: "Australia/Lord_Howe", count: 4) == [
                "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
                "2026-04-05T02:00:00+10:30", "2026-04-05T02:15:00+10:30",
            ])
    }

    @Test func nextRunsCrossingAWholeYearOfChanges() {
        #expect(
            T.fires("0 9 1 * *", after: "2026-01-15T00:00:00Z", in: "Europe/Paris", count: 12).count == 12)
        #expect(
            T.fires("0 9 1 */3 *", after: "2026-01-15T00:00:00Z", in: "Europe/Paris", count: 4) == [
                "2026-04-01T09:00:00+02:00", "2026-07-01T09:00:00+02:00",
                "2026-10-01T09:00:00+02:00", "2027-01-01T09:00:00+01:00",
            ])
    }
}
