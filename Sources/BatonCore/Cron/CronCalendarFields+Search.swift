extension CronCalendarFields {
    /// The first wall-clock second in `[start, end)` (local seconds, see `CronCivil`) that
    /// matches every field, or nil.
    ///
    /// Jumps field by field: to the next allowed month, then day, hour, minute and second,
    /// resetting the smaller fields on each jump, so one call does at most a few dozen
    /// steps per month it crosses (a leap-day schedule crosses one February per year).
    func firstMatch(fromLocal start: Int64, beforeLocal end: Int64) -> Int64? {
        var time = CronCivil.dateTime(fromLocalSeconds: start)
        while CronCivil.localSeconds(of: time) < end {
            guard month.contains(time.month) else {
                Self.advanceMonth(&time, to: month.next(atOrAfter: time.month + 1))
                continue
            }
            let length = CronCivil.daysInMonth(year: time.year, month: time.month)
            guard
                let day = (time.day...length).first(where: { dayMatches(year: time.year, month: time.month, day: $0) })
            else {
                Self.advanceMonth(&time, to: time.month + 1)
                continue
            }
            if day != time.day { (time.day, time.hour, time.minute, time.second) = (day, 0, 0, 0) }
            guard let hour = hour.next(atOrAfter: time.hour) else {
                Self.advanceDay(&time)
                continue
            }
            if hour != time.hour { (time.hour, time.minute, time.second) = (hour, 0, 0) }
            guard let minute = minute.next(atOrAfter: time.minute) else {
                (time.minute, time.second) = (0, 0)
                Self.advanceHour(&time)
                continue
            }
            if minute != time.minute { (time.minute, time.second) = (minute, 0) }
            guard let second = second.next(atOrAfter: time.second) else {
                time.second = 0
                Self.advanceMinute(&time)
                continue
            }
            time.second = second
            let local = CronCivil.localSeconds(of: time)
            return local < end ? local : nil
        }
        return nil
    }

    /// The classic cron day rule: when both day fields are restricted, either may match;
    /// otherwise both must (a wildcard allows every value, so only the other one counts).
    func dayMatches(year: Int64, month: Int, day: Int) -> Bool {
        let weekday = CronCivil.weekday(ofDays: CronCivil.days(fromYear: year, month: month, day: day))
        if dayOfMonth.isWildcard || dayOfWeek.isWildcard {
            return dayOfMonth.contains(day) && dayOfWeek.contains(weekday)
        }
        return dayOfMonth.contains(day) || dayOfWeek.contains(weekday)
    }

    /// Midnight on the 1st of `month` (the next year's first allowed month when nil or 13).
    private static func advanceMonth(_ time: inout CronCivil.DateTime, to month: Int?) {
        if let month, month <= 12 {
            time.month = month
        } else {
            time.year += 1
            time.month = 1
        }
        (time.day, time.hour, time.minute, time.second) = (1, 0, 0, 0)
    }

    /// Midnight of the next day.
    private static func advanceDay(_ time: inout CronCivil.DateTime) {
        (time.hour, time.minute, time.second) = (0, 0, 0)
        if time.day < CronCivil.daysInMonth(year: time.year, month: time.month) {
            time.day += 1
        } else {
            advanceMonth(&time, to: time.month + 1)
        }
    }

    /// The start of the next hour.
    private static func advanceHour(_ time: inout CronCivil.DateTime) {
        if time.hour < 23 { time.hour += 1 } else { advanceDay(&time) }
    }

    /// The start of the next minute.
    private static func advanceMinute(_ time: inout CronCivil.DateTime) {
        if time.minute < 59 {
            time.minute += 1
        } else {
            time.minute = 0
            advanceHour(&time)
        }
    }
}
