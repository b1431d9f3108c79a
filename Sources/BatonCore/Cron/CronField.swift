/// The six positions of a cron expression, with their value ranges and names.
enum CronFieldKind: Sendable, CaseIterable {
    case second, minute, hour, dayOfMonth, month, dayOfWeek

    /// The name used in error messages (`minute value 75 out of range 0-59`).
    var label: String {
        switch self {
        case .second: "second"
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// Smallest value written in an expression.
    var lowerBound: Int {
        switch self {
        case .second, .minute, .hour, .dayOfWeek: 0
        case .dayOfMonth, .month: 1
        }
    }

    /// Largest value written in an expression; day-of-week accepts 7 for Sunday.
    var upperBound: Int {
        switch self {
        case .second, .minute: 59
        case .hour: 23
        case .dayOfMonth: 31
        case .month: 12
        case .dayOfWeek: 7
        }
    }

    /// Three-letter names (upper case) and their values, for the fields that have them.
    var names: [String: Int] {
        switch self {
        case .month:
            [
                "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
            ]
        case .dayOfWeek:
            ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
        default:
            [:]
        }
    }

    /// Whether `?` may stand for "any" (the two day fields, as in Quartz).
    var acceptsQuestionMark: Bool { self == .dayOfMonth || self == .dayOfWeek }
}

/// The set of values one field allows, as a bit set (bit `n` set when `n` matches).
///
/// Day-of-week is stored as 0–6 (Sunday = 0); a written 7 is folded onto 0 when parsed.
struct CronField: Sendable, Equatable {
    /// Bit `n` is set when value `n` matches.
    var bits: UInt64
    /// True when the field was written `*` or `?`, which matters for the day-of-month /
    /// day-of-week rule (see `CronExpression`).
    var isWildcard: Bool

    /// A field allowing exactly `values`.
    init(values: some Sequence<Int>, isWildcard: Bool = false) {
        var bits: UInt64 = 0
        for value in values { bits |= 1 << UInt64(value) }
        self.bits = bits
        self.isWildcard = isWildcard
    }

    /// Whether `value` matches.
    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest matching value that is `>= value`, or nil when there is none.
    func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let masked = value <= 0 ? bits : bits & ~((1 << UInt64(value)) - 1)
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    /// The smallest matching value, or nil for an empty set.
    var first: Int? { next(atOrAfter: 0) }
}
