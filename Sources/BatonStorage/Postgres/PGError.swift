/// What went wrong talking to PostgreSQL.
enum PGError: Error, CustomStringConvertible {
    /// The connection could not be made or broke.
    case connection(String)
    /// The server refused a statement; `sqlState` is its SQLSTATE code (e.g. 23505).
    case server(sqlState: String, message: String)

    var description: String {
        switch self {
        case .connection(let message): return "PostgreSQL connection: \(message)"
        case .server(let state, let message): return "PostgreSQL error \(state): \(message)"
        }
    }

    /// A unique constraint was violated.
    var isUniqueViolation: Bool {
        if case .server("23505", _) = self { return true }
        return false
    }
}
