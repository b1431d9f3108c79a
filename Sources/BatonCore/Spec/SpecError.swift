import Foundation

/// One problem found in a workflow spec, at the place it was found.
///
/// `path` names the offending value the way a user would write it
/// (`tasks[3].depends_on[0]`, `env.HOME`); it is `""` for problems with the document as a
/// whole (syntax errors, a top level that is not a map).
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, e.g. `tasks[3].depends_on[0]`; `""` for the whole document.
    public var path: String
    /// What is wrong, e.g. `unknown task "x"`.
    public var message: String

    /// Creates an error at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or the message alone for the whole document.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

/// Every problem found in a spec: validation reports them all, not just the first.
public struct SpecErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, in the order they were found (document order first).
    public var errors: [SpecError]

    /// Wraps a list of problems.
    public init(_ errors: [SpecError]) {
        self.errors = errors
    }

    /// One problem per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
