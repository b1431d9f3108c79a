/// Failures particular to the stores of this module (SQLite and PostgreSQL), beyond the port's `RunStoreError`.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    /// A `RunUpdate` named a run that is not in the database; nothing of its run was written.
    case unknownRun(String)
    /// A stored value this binary cannot read (e.g. a status it does not know).
    case corruptValue(table: String, column: String, value: String)

    public var description: String {
        switch self {
        case .unknownRun(let id): return "run \(id) is not in the database"
        case .corruptValue(let table, let column, let value):
            return "unreadable value in \(table).\(column): \(value)"
        }
    }
}
