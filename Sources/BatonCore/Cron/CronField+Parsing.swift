extension CronField {
    /// Parses one field: a comma-separated list of `*`, `?`, values, ranges and steps.
    static func parse(_ token: CronToken, as kind: CronFieldKind) throws(CronError) -> CronField {
        let characters = Array(token.text)
        if token.text == "*" || (token.text == "?" && kind.acceptsQuestionMark) {
            return CronField(values: kind.lowerBound...kind.upperBound, kind: kind, isWildcard: true)
        }
        var values: [Int] = []
        var itemStart = 0
        while itemStart <= characters.count {
            var itemEnd = itemStart
            while itemEnd < characters.count, characters[itemEnd] != "," { itemEnd += 1 }
            let item = CronToken(
                position: token.position + itemStart, text: String(characters[itemStart..<itemEnd]))
            guard !item.text.isEmpty else {
                throw CronError(position: item.position, message: "empty list item in \(kind.label) field")
            }
            values += try parseItem(item, as: kind)
            itemStart = itemEnd + 1
        }
        return CronField(values: values, kind: kind, isWildcard: false)
    }

    /// A field of `values`, folding day-of-week 7 onto Sunday (0).
    private init(values: some Sequence<Int>, kind: CronFieldKind, isWildcard: Bool) {
        self.init(values: values.map { kind == .dayOfWeek && $0 == 7 ? 0 : $0 }, isWildcard: isWildcard)
    }

    /// One list item: `*`, `v`, `a-b`, each with an optional `/step`; `v/step` runs to the
    /// end of the range.
    private static func parseItem(_ item: CronToken, as kind: CronFieldKind) throws(CronError) -> [Int] {
        let parts = item.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            let second = item.text.dropFirst(parts[0].count + 1 + parts[1].count)
            throw CronError(
                position: item.position + item.text.count - second.count,
                message: "more than one \"/\" in \(kind.label) field")
        }
        let base = CronToken(position: item.position, text: String(parts[0]))
        var step = 1
        if parts.count == 2 {
            let stepToken = CronToken(position: item.position + parts[0].count + 1, text: String(parts[1]))
            step = try parseStep(stepToken, as: kind)
        }
        let low: Int
        let high: Int
        if base.text == "*" || (base.text == "?" && kind.acceptsQuestionMark) {
            (low, high) = (kind.lowerBound, kind.upperBound)
        } else if let dash = base.text.firstIndex(of: "-") {
            let dashOffset = base.text.distance(from: base.text.startIndex, to: dash)
            let lowToken = CronToken(position: base.position, text: String(base.text[..<dash]))
            let highToken = CronToken(
                position: base.position + dashOffset + 1, text: String(base.text[base.text.index(after: dash)...]))
            low = try parseValue(lowToken, as: kind)
            var end = try parseValue(highToken, as: kind)
            // `FRI-SUN`: Sunday closing a range means 7, the end of the week.
            if kind == .dayOfWeek, end == 0, low > 0, highToken.text.uppercased() == "SUN" { end = 7 }
            guard low <= end else {
                throw CronError(
                    position: base.position,
                    message: "inverted range \(base.text) in \(kind.label) field")
            }
            high = end
        } else {
            let value = try parseValue(base, as: kind)
            (low, high) = (value, parts.count == 2 ? kind.upperBound : value)
        }
        return Array(stride(from: low, through: high, by: step))
    }

    /// The number after `/`: from 1 to the number of values in the field.
    private static func parseStep(_ token: CronToken, as kind: CronFieldKind) throws(CronError) -> Int {
        guard !token.text.isEmpty else {
            throw CronError(position: token.position, message: "missing step after \"/\" in \(kind.label) field")
        }
        guard token.text.allSatisfy({ $0.isASCII && $0.isNumber }), let step = Int(token.text) else {
            throw CronError(
                position: token.position, message: "invalid \(kind.label) step \"\(token.text)\" (expected a number)")
        }
        guard step >= 1 else {
            throw CronError(position: token.position, message: "step must be at least 1")
        }
        let span = kind.upperBound - kind.lowerBound + 1
        guard step <= span else {
            throw CronError(position: token.position, message: "\(kind.label) step \(step) out of range 1-\(span)")
        }
        return step
    }

    /// A number in the field's range, or a month or weekday name.
    private static func parseValue(_ token: CronToken, as kind: CronFieldKind) throws(CronError) -> Int {
        guard !token.text.isEmpty else {
            throw CronError(position: token.position, message: "missing \(kind.label) value")
        }
        if token.text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let value = Int(token.text), (kind.lowerBound...kind.upperBound).contains(value) else {
                throw CronError(
                    position: token.position,
                    message: "\(kind.label) value \(token.text) out of range \(kind.lowerBound)-\(kind.upperBound)")
            }
            return value
        }
        if !kind.names.isEmpty, token.text.allSatisfy(\.isLetter) {
            guard let value = kind.names[token.text.uppercased()] else {
                throw CronError(position: token.position, message: "unknown \(kind.label) name \"\(token.text)\"")
            }
            return value
        }
        throw CronError(position: token.position, message: "invalid \(kind.label) value \"\(token.text)\"")
    }
}
