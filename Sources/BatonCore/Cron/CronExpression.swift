import Foundation

/// A parsed cron schedule (SPEC §4 `schedule.cron`): when a stored workflow fires.
///
/// Accepted forms, parsed by `parse(_:)`:
/// - 5 fields `minute hour day-of-month month day-of-week`, or 6 with a leading `second`
///   (5 fields fire at second 0);
/// - in each field `*`, a value, a list `1,5,7`, a range `1-5`, a step `*/15`, `10-50/5`,
///   or `5/10` (from 5 to the end of the range, every 10); `?` means `*` in the two day
///   fields;
/// - month names `JAN`–`DEC` and weekday names `SUN`–`SAT`, in any case; day-of-week
///   0–7 where both 0 and 7 are Sunday (`FRI-SUN` is Friday to Sunday);
/// - `@yearly` (= `@annually`, `0 0 1 1 *`), `@monthly` (`0 0 1 * *`), `@weekly`
///   (`0 0 * * 0`), `@daily` (= `@midnight`, `0 0 * * *`), `@hourly` (`0 * * * *`);
/// - `@every <duration>` with a duration such as `30s`, `15m`, `2h`, `1h30m`.
///
/// Day rule (classic cron): when both day-of-month and day-of-week are restricted (neither
/// is written `*` or `?`), a day matches if EITHER matches: `0 0 13 * FRI` fires on every
/// 13th and every Friday. Otherwise a day must match both. A field written `*/2` counts as
/// restricted.
///
/// Time zones and daylight saving time. Calendar expressions are evaluated on the local
/// wall clock of the zone given to `nextFire(after:in:)` (an IANA zone from
/// `TimeZone(identifier:)`, proleptic Gregorian calendar):
/// - a wall-clock time that does not exist, because clocks jump forward over it, is
///   SKIPPED: `30 2 * * *` in Europe/Paris does not fire on 2026-03-29 (02:00 → 03:00) and
///   next fires at 02:30 on the 30th; `0 * * * *` fires at 01:00 then at 03:00 local;
/// - a wall-clock time that happens twice, because clocks go back, fires ONCE, at its
///   first occurrence: on 2026-10-25 in Paris (03:00 → 02:00) `30 2 * * *` fires at
///   02:30 CEST and not at 02:30 CET, and `*/30 * * * *` fires at 02:00 and 02:30 CEST
///   and then at 03:00 CET: the second pass through 02:00–02:59 fires nothing, because each
///   distinct wall-clock time fires at most once.
///
/// `@every` is pure elapsed time, independent of the zone: it fires at every multiple of
/// its interval since the Unix epoch (`@every 30s` at :00 and :30 of every minute UTC), so
/// fire times stay the same across server restarts.
///
/// Fire times are whole seconds. A search looks at most `searchHorizonYears` of local
/// time ahead and answers nil beyond; the rarest schedule that parses, a leap day such as
/// `0 0 29 2 *`, waits at most 8 years (2096 to 2104). A day that can never occur
/// (`0 0 30 2 *`) is refused by `parse(_:)`.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written, without surrounding whitespace.
    public let source: String
    /// What the text means.
    let schedule: Schedule

    /// The two kinds of schedule an expression can describe.
    enum Schedule: Sendable, Equatable {
        /// Fields matched against the local wall clock.
        case calendar(CronCalendarFields)
        /// `@every`: a fixed number of seconds, anchored at the Unix epoch.
        case interval(seconds: Int64)
    }

    /// How far ahead (in years of local time) a search looks before giving up.
    public static let searchHorizonYears = 8

    /// The source text.
    public var description: String { source }
}

/// The six compiled fields of a calendar expression.
struct CronCalendarFields: Sendable, Equatable {
    var second: CronField
    var minute: CronField
    var hour: CronField
    var dayOfMonth: CronField
    var month: CronField
    /// 0–6, Sunday = 0.
    var dayOfWeek: CronField
}
