/// Finds the known key an unknown one most likely misspells, for "did you mean" hints.
enum SpecKeySuggestion {
    static func closest(to key: String, among known: [String]) -> String? {
        let normalized = normalize(key)
        guard !normalized.isEmpty else { return nil }
        let candidates = known.map { (key: $0, normalized: normalize($0)) }
        // `dependsOn`, `Depends-On`, `DEPENDS_ON` for `depends_on`.
        if let match = candidates.first(where: { $0.normalized == normalized }) {
            return match.key
        }
        // `timeout` for `timeout_seconds`, when only one key starts that way.
        let extensions = candidates.filter { $0.normalized.hasPrefix(normalized) }
        if normalized.count >= 3, extensions.count == 1 {
            return extensions[0].key
        }
        let limit = max(1, min(3, normalized.count / 3))
        var best: (key: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(Array(normalized), Array(candidate.normalized))
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate.key, distance)
            }
        }
        return best?.key
    }

    private static func normalize(_ key: String) -> String {
        String(key.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Edit distance counting a swap of neighbours as one edit (`nmae` is one from `name`);
    /// keys are short, so the quadratic table is cheap.
    private static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: rhs.count + 1), count: lhs.count + 1)
        for i in 0...lhs.count { table[i][0] = i }
        for j in 0...rhs.count { table[0][j] = j }
        for i in 1...lhs.count {
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    best = min(best, table[i - 2][j - 2] + 1)
                }
                table[i][j] = best
            }
        }
        return table[lhs.count][rhs.count]
    }
}
