import Glibc

/// Why ``ChildReactor/spawn(_:)`` started nothing. Nothing is left open or running when it
/// throws.
public enum SpawnError: Error, Equatable {
    /// `argv[0]` names no executable: not in the child's `PATH`, or the path does not exist.
    case commandNotFound(String)
    /// The executable (the path found) exists but may not be executed.
    case permissionDenied(String)
    /// The working directory does not exist, is not a directory, or cannot be entered.
    case badWorkingDirectory(String)
    /// The request cannot be expressed to `execve(2)`: an empty `argv`, a NUL byte in an
    /// argument, an environment name that is empty or holds `=` or NUL.
    case invalidArgument(String)
    /// A system call failed: what was being done, and the `errno`.
    case system(String, Int32)
}

extension SpawnError: CustomStringConvertible {
    /// One line for a task's `reason` or a log: says what and, for system errors, why.
    public var description: String {
        switch self {
        case .commandNotFound(let command):
            return "command not found: \(command)"
        case .permissionDenied(let path):
            return "permission denied: cannot execute \(path)"
        case .badWorkingDirectory(let path):
            return "bad working directory: \(path) is not an existing, accessible directory"
        case .invalidArgument(let detail):
            return "invalid command: \(detail)"
        case .system(let operation, let code):
            return "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
