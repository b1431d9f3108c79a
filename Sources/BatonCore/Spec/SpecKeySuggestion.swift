/// Finds the known key an unknown one most likely misspells, for "did you mean" hints.
enum SpecKeySuggestion {
    static func closest(to key: String, among known: [String]) -> String? {
        let normalized = normalize(key)
        if let match = known.first(where: { normalize($0) == normalized }) {
            return match  // `dependsOn`, `Depends-On`, `DEPENDS_ON` for `depends_on`
        }
        let limit = max(1, min(3, key.count / 3))
        var best: (key: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(Array(normalized), Array(normalize(candidate)))
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.key
    }

    private static func normalize(_ key: String) -> String {
        String(key.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Levenshtein distance; keys are short, so the quadratic table is cheap.
    private static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var previous = Array(0...rhs.count)
        var current = [Int](repeating: 0, count: rhs.count + 1)
        for i in 1...lhs.count {
            current[0] = i
            for j in 1...rhs.count {
                let substitution = previous[j - 1] + (lhs[i - 1] == rhs[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[rhs.count]
    }
}
