import Foundation
import Testing

@testable import BatonCore

@Suite struct CronParsingTests {
    /// The compiled fields of a calendar expression.
    private func fields(_ text: String) throws -> CronCalendarFields {
        let expression = try CronExpression.parse(text)
        guard case .calendar(let fields) = expression.schedule else {
            Issue.record("\(text) is not a calendar expression")
            throw CronError(position: 0, message: "not calendar")
        }
        return fields
    }

    /// The values a field allows, in order.
    private func values(_ field: CronField) -> [Int] {
        (0..<64).filter(field.contains)
    }

    @Test func fiveFieldsFireAtSecondZero() throws {
        let parsed = try fields("5 4 3 2 1")
        #expect(values(parsed.second) == [0])
        #expect(values(parsed.minute) == [5])
        #expect(values(parsed.hour) == [4])
        #expect(values(parsed.dayOfMonth) == [3])
        #expect(values(parsed.month) == [2])
        #expect(values(parsed.dayOfWeek) == [1])
    }

    @Test func sixFieldsStartWithSeconds() throws {
        let parsed = try fields("*/20 5 4 3 2 1")
        #expect(values(parsed.second) == [0, 20, 40])
        #expect(values(parsed.minute) == [5])
        #expect(values(parsed.dayOfWeek) == [1])
    }

    @Test func listsRangesAndSteps() throws {
        #expect(values(try fields("1,5,7 * * * *").minute) == [1, 5, 7])
        #expect(values(try fields("1-5 * * * *").minute) == [1, 2, 3, 4, 5])
        #expect(values(try fields("*/15 * * * *").minute) == [0, 15, 30, 45])
        #expect(values(try fields("10-50/5 * * * *").minute) == Array(stride(from: 10, through: 50, by: 5)))
        #expect(values(try fields("5/10 * * * *").minute) == [5, 15, 25, 35, 45, 55])
        #expect(values(try fields("0 */6 * * *").hour) == [0, 6, 12, 18])
        #expect(values(try fields("0 0 */10 * *").dayOfMonth) == [1, 11, 21, 31])
        #expect(values(try fields("0 0 1 */3 *").month) == [1, 4, 7, 10])
        #expect(values(try fields("1-3,10,20-22/2 * * * *").minute) == [1, 2, 3, 10, 20, 22])
        #expect(values(try fields("*/60 * * * *").minute) == [0])
    }

    @Test func namesAreCaseInsensitive() throws {
        let named = try fields("0 0 * jan,Feb,DEC mon-FRI")
        let numbered = try fields("0 0 * 1,2,12 1-5")
        #expect(named == numbered)
        #expect(values(try fields("0 0 * * sun,Sat").dayOfWeek) == [0, 6])
        #expect(values(try fields("0 0 * JUN-AUG *").month) == [6, 7, 8])
    }

    @Test func sundayIsZeroOrSeven() throws {
        #expect(try fields("0 0 * * 7") == fields("0 0 * * 0"))
        #expect(values(try fields("0 0 * * 5-7").dayOfWeek) == [0, 5, 6])
        #expect(values(try fields("0 0 * * FRI-SUN").dayOfWeek) == [0, 5, 6])
        #expect(values(try fields("0 0 * * 0-7").dayOfWeek) == Array(0...6))
    }

    @Test func wildcardsAreRemembered() throws {
        let parsed = try fields("0 0 * * ?")
        #expect(parsed.dayOfMonth.isWildcard)
        #expect(parsed.dayOfWeek.isWildcard)
        #expect(try !fields("0 0 */2 * *").dayOfMonth.isWildcard)
        #expect(try !fields("0 0 1-31 * *").dayOfMonth.isWildcard)
    }

    @Test(arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"), ("@HOURLY", "0 * * * *"),
    ])
    func macrosMeanTheirClassicFields(macro: String, equivalent: String) throws {
        #expect(try fields(macro) == fields(equivalent))
        #expect(try CronExpression.parse(macro).source == macro)
    }

    @Test(
        arguments: [
            ("@every 30s", 30), ("@every 5m", 300), ("@every 2h", 7200), ("@every 1h30m", 5400),
            ("@every 90s", 90), ("@every 1h0m5s", 3605), ("  @every   15M  ", 900),
        ] as [(String, Int64)])
    func everyDurations(text: String, seconds: Int64) throws {
        #expect(try CronExpression.parse(text).schedule == .interval(seconds: seconds))
    }

    @Test func sourceIsTheTrimmedText() throws {
        let expression = try CronExpression.parse("  0 9\t* * MON-FRI \n")
        #expect(expression.source == "0 9\t* * MON-FRI")
        #expect(expression.description == "0 9\t* * MON-FRI")
        #expect(try CronExpression.parse("0 9 * * 1-5") != expression)
    }

    @Test(
        arguments: [
            ("", 1, "empty cron expression"),
            ("   ", 1, "empty cron expression"),
            ("* * * *", 8, "expected 5 or 6 fields, got 4"),
            ("0 0 * * * * 2026", 13, "expected 5 or 6 fields, got 7"),
            ("0,75 * * * *", 3, "minute value 75 out of range 0-59"),
            ("*/5 0,75 * * * *", 7, "minute value 75 out of range 0-59"),
            ("0 9,75 * * *", 5, "hour value 75 out of range 0-23"),
            ("60 * * * * *", 1, "second value 60 out of range 0-59"),
            ("0 0 0 * *", 5, "day-of-month value 0 out of range 1-31"),
            ("0 0 1 13 *", 7, "month value 13 out of range 1-12"),
            ("0 0 * * 8", 9, "day-of-week value 8 out of range 0-7"),
            ("0 0 1 JNU *", 7, "unknown month name \"JNU\""),
            ("0 0 * * MON-FRX", 13, "unknown day-of-week name \"FRX\""),
            ("MON * * * *", 1, "invalid minute value \"MON\""),
            ("0 0 * * MONDAY", 9, "unknown day-of-week name \"MONDAY\""),
            ("*/0 * * * *", 3, "step must be at least 1"),
            ("*/75 * * * *", 3, "minute step 75 out of range 1-60"),
            ("*/ * * * *", 3, "missing step after \"/\" in minute field"),
            ("*/x * * * *", 3, "invalid minute step \"x\" (expected a number)"),
            ("*/+5 * * * *", 3, "invalid minute step \"+5\" (expected a number)"),
            ("1/2/3 * * * *", 4, "more than one \"/\" in minute field"),
            ("0 1,20-10 * * *", 5, "inverted range 20-10 in hour field"),
            ("50-10 * * * *", 1, "inverted range 50-10 in minute field"),
            ("1-5- * * * *", 3, "invalid minute value \"5-\""),
            ("5- * * * *", 3, "missing minute value"),
            ("1,,2 * * * *", 3, "empty list item in minute field"),
            ("1, * * * *", 3, "empty list item in minute field"),
            ("? * * * *", 1, "invalid minute value \"?\""),
            ("-1 * * * *", 1, "missing minute value"),
            ("0 0 30 2 *", 5, "day-of-month \"30\" never occurs in the months given"),
            ("0 0 31 4,6,9,11 *", 5, "day-of-month \"31\" never occurs in the months given"),
            (
                "@daly", 1,
                "unknown macro \"@daly\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every)"
            ),
            ("@daily 5", 8, "unexpected \"5\" after @daily"),
            ("@every", 7, "@every needs a duration such as 30s, 5m or 1h30m"),
            ("@every 0s", 8, "@every interval must be more than zero"),
            ("@every 0h0m", 8, "@every interval must be more than zero"),
            ("@every 10", 10, "missing unit after 10: use s, m or h"),
            ("@every 5x", 9, "unknown duration unit \"x\": use s, m or h"),
            ("@every 1h30", 12, "missing unit after 30: use s, m or h"),
            ("@every h", 8, "expected a number in duration \"h\" (such as 30s, 5m or 1h30m)"),
            ("@every -5s", 8, "expected a number in duration \"-5s\" (such as 30s, 5m or 1h30m)"),
            ("@every 5s 5s", 11, "unexpected \"5s\" after the duration"),
        ] as [(String, Int, String)])
    func errorsPointAtTheProblem(text: String, position: Int, message: String) {
        let error = CronTestSupport.parseError(text)
        #expect(error == CronError(position: position, message: message), "\(text)")
    }

    @Test func errorDescriptionLeadsWithThePosition() {
        #expect(CronTestSupport.parseError("0 75 * * *")?.description == "position 3: hour value 75 out of range 0-23")
        #expect(
            CronTestSupport.parseError("0 0,75 * * * *")?.description == "position 5: minute value 75 out of range 0-59"
        )
    }

    @Test func leapDayAndMonthEndsFireOnTheRightDays() throws {
        // The 29th of February exists only in leap years: after 2026 the next is 2028.
        #expect(
            CronTestSupport.fires("0 0 29 2 *", after: "2026-03-01T00:00:00Z", count: 2) == [
                "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z",
            ])
        // The 31st is skipped in months without one (no rollover into the 1st).
        #expect(
            CronTestSupport.fires("0 0 31 1-12 *", after: "2026-01-31T12:00:00Z", count: 3) == [
                "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
            ])
        // Day-of-week widens the days: "the 30th of February or a Friday" is every Friday
        // of February (there is no 30th).
        #expect(
            CronTestSupport.fires("0 0 30 2 FRI", after: "2027-01-01T00:00:00Z", count: 4) == [
                "2027-02-05T00:00:00Z", "2027-02-12T00:00:00Z", "2027-02-19T00:00:00Z", "2027-02-26T00:00:00Z",
            ])
    }
}
