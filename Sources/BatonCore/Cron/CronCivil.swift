/// Proleptic Gregorian calendar arithmetic on whole seconds, with no time zone: the
/// "local seconds" of a wall clock (seconds since 1970-01-01T00:00 on that wall clock).
///
/// Done with integers rather than `Calendar` because a scheduler asks for the next fire
/// of every schedule often, and this is the inner loop.
enum CronCivil {
    /// Seconds in a day.
    static let secondsPerDay: Int64 = 86_400

    /// A wall-clock date and time.
    struct DateTime: Equatable {
        var year: Int64
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
    }

    /// Splits local seconds into a date and a time of day.
    static func dateTime(fromLocalSeconds seconds: Int64) -> DateTime {
        let days = floorDiv(seconds, secondsPerDay)
        let secondOfDay = Int(seconds - days * secondsPerDay)
        let (year, month, day) = civil(fromDays: days)
        return DateTime(
            year: year, month: month, day: day,
            hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60, second: secondOfDay % 60)
    }

    /// Local seconds of a date and time (the fields must be in range).
    static func localSeconds(of value: DateTime) -> Int64 {
        days(fromYear: value.year, month: value.month, day: value.day) * secondsPerDay
            + Int64(value.hour * 3600 + value.minute * 60 + value.second)
    }

    /// Day of the week, 0 = Sunday, of a day counted from 1970-01-01 (a Thursday).
    static func weekday(ofDays days: Int64) -> Int {
        Int(floorMod(days + 4, 7))
    }

    /// Number of days in `month` of `year`.
    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Gregorian leap year rule.
    static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Howard Hinnant's `days_from_civil`: days since 1970-01-01.
    static func days(fromYear year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's `civil_from_days`: (year, month, day) of days since 1970-01-01.
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, Int(month), Int(day))
    }

    /// Division rounding toward negative infinity.
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Remainder with the sign of the divisor.
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        a - floorDiv(a, b) * b
    }
}
