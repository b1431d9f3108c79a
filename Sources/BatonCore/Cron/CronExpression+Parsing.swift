extension CronExpression {
    /// Parses a cron expression (the forms are listed on `CronExpression`).
    ///
    /// Errors point at the offending character, 1-based:
    /// `position 9: minute value 75 out of range 0-59`, `position 8: expected 5 or 6
    /// fields, got 4`, `position 7: unknown month name "JNU"`, `position 3: step must be
    /// at least 1`, `position 1: inverted range 50-10 in minute field`.
    public static func parse(_ text: String) throws(CronError) -> CronExpression {
        let characters = Array(text)
        let tokens = CronToken.split(characters)
        guard let first = tokens.first else {
            throw CronError(position: 1, message: "empty cron expression")
        }
        let source = String(characters[(first.position - 1)..<(tokens[tokens.count - 1].end - 1)])
        if first.text.hasPrefix("@") {
            let schedule = try parseMacro(tokens, endPosition: characters.count + 1)
            return CronExpression(source: source, schedule: schedule)
        }
        guard tokens.count == 5 || tokens.count == 6 else {
            let position = tokens.count > 6 ? tokens[6].position : characters.count + 1
            throw CronError(position: position, message: "expected 5 or 6 fields, got \(tokens.count)")
        }
        let fields = try parseFields(tokens)
        return CronExpression(source: source, schedule: .calendar(fields))
    }

    /// Five or six field tokens into fields; a missing second field means second 0.
    private static func parseFields(_ tokens: [CronToken]) throws(CronError) -> CronCalendarFields {
        let hasSeconds = tokens.count == 6
        let rest = hasSeconds ? Array(tokens.dropFirst()) : tokens
        let second = hasSeconds ? try CronField.parse(tokens[0], as: .second) : CronField(values: [0])
        let fields = CronCalendarFields(
            second: second,
            minute: try CronField.parse(rest[0], as: .minute),
            hour: try CronField.parse(rest[1], as: .hour),
            dayOfMonth: try CronField.parse(rest[2], as: .dayOfMonth),
            month: try CronField.parse(rest[3], as: .month),
            dayOfWeek: try CronField.parse(rest[4], as: .dayOfWeek))
        try checkDaysCanOccur(fields, dayOfMonthToken: rest[2])
        return fields
    }

    /// Refuses day-of-month values that no selected month has (`30 2`, `31 4,6`), which
    /// would otherwise never fire. Only matters when day-of-week does not widen the days.
    private static func checkDaysCanOccur(
        _ fields: CronCalendarFields, dayOfMonthToken: CronToken
    ) throws(CronError) {
        guard fields.dayOfWeek.isWildcard, !fields.dayOfMonth.isWildcard else { return }
        for month in 1...12 where fields.month.contains(month) {
            // 2000 is a leap year: February counts its 29th.
            let length = CronCivil.daysInMonth(year: 2000, month: month)
            if let day = fields.dayOfMonth.first, day <= length { return }
        }
        throw CronError(
            position: dayOfMonthToken.position,
            message: "day-of-month \"\(dayOfMonthToken.text)\" never occurs in the months given")
    }

    /// `@daily` and friends, and `@every <duration>`.
    private static func parseMacro(_ tokens: [CronToken], endPosition: Int) throws(CronError) -> Schedule {
        let name = tokens[0].text.lowercased()
        let equivalent: String
        switch name {
        case "@yearly", "@annually": equivalent = "0 0 1 1 *"
        case "@monthly": equivalent = "0 0 1 * *"
        case "@weekly": equivalent = "0 0 * * 0"
        case "@daily", "@midnight": equivalent = "0 0 * * *"
        case "@hourly": equivalent = "0 * * * *"
        case "@every":
            guard tokens.count >= 2 else {
                throw CronError(
                    position: endPosition, message: "@every needs a duration such as 30s, 5m or 1h30m")
            }
            guard tokens.count == 2 else {
                throw CronError(
                    position: tokens[2].position, message: "unexpected \"\(tokens[2].text)\" after the duration")
            }
            return .interval(seconds: try parseDuration(tokens[1]))
        default:
            throw CronError(
                position: tokens[0].position,
                message: "unknown macro \"\(tokens[0].text)\" (use @yearly, @annually, @monthly, "
                    + "@weekly, @daily, @midnight, @hourly or @every)")
        }
        guard tokens.count == 1 else {
            throw CronError(
                position: tokens[1].position, message: "unexpected \"\(tokens[1].text)\" after \(tokens[0].text)")
        }
        return .calendar(try parseFields(CronToken.split(Array(equivalent))))
    }

    /// `30s`, `15m`, `2h`, `1h30m`, `90s` into seconds (more than zero).
    private static func parseDuration(_ token: CronToken) throws(CronError) -> Int64 {
        let characters = Array(token.text)
        var total: Int64 = 0
        var index = 0
        while index < characters.count {
            let numberStart = index
            var value: Int64 = 0
            while index < characters.count, let digit = characters[index].wholeNumberValue, characters[index].isASCII {
                value = value * 10 + Int64(digit)
                index += 1
                guard value <= 1_000_000_000 else {
                    throw CronError(position: token.position + numberStart, message: "duration value too large")
                }
            }
            guard index > numberStart else {
                throw CronError(
                    position: token.position + index,
                    message: "expected a number in duration \"\(token.text)\" (such as 30s, 5m or 1h30m)")
            }
            guard index < characters.count else {
                throw CronError(
                    position: token.position + index, message: "missing unit after \(value): use s, m or h")
            }
            let unitSeconds: Int64
            switch characters[index] {
            case "s", "S": unitSeconds = 1
            case "m", "M": unitSeconds = 60
            case "h", "H": unitSeconds = 3600
            default:
                throw CronError(
                    position: token.position + index,
                    message: "unknown duration unit \"\(characters[index])\": use s, m or h")
            }
            index += 1
            total += value * unitSeconds
        }
        guard total > 0 else {
            throw CronError(position: token.position, message: "@every interval must be more than zero")
        }
        return total
    }
}

/// A whitespace-separated word of an expression and where it starts.
struct CronToken {
    /// 1-based position of the first character.
    var position: Int
    /// The characters of the word.
    var text: String
    /// 1-based position one past the last character.
    var end: Int { position + text.count }

    /// Splits on whitespace, keeping positions.
    static func split(_ characters: [Character]) -> [CronToken] {
        var tokens: [CronToken] = []
        var index = 0
        while index < characters.count {
            if characters[index].isWhitespace {
                index += 1
                continue
            }
            let start = index
            while index < characters.count, !characters[index].isWhitespace { index += 1 }
            tokens.append(CronToken(position: start + 1, text: String(characters[start..<index])))
        }
        return tokens
    }
}
