import Foundation
import Testing

@testable import BatonCore

/// Helpers shared by the spec test suites.
enum SpecTest {
    /// Parses `text`, expecting success.
    static func parse(
        _ text: String, format: SpecFormat = .auto, cores: Int = 8, sourceLocation: SourceLocation = #_sourceLocation
    ) -> WorkflowSpec? {
        do {
            return try SpecParser.parse(Data(text.utf8), format: format, cores: cores)
        } catch {
            Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Parses `text`, expecting failure; returns the errors as `path: message` lines.
    static func errors(
        _ text: String, format: SpecFormat = .auto, cores: Int = 8, maxTasks: Int = 100_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        errors(Data(text.utf8), format: format, cores: cores, maxTasks: maxTasks, sourceLocation: sourceLocation)
    }

    static func errors(
        _ data: Data, format: SpecFormat = .auto, cores: Int = 8, maxTasks: Int = 100_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        do {
            let spec = try SpecParser.parse(data, format: format, cores: cores, maxTasks: maxTasks)
            Issue.record("expected errors, got \(spec)", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map { withoutTaskName($0.description) }
        }
    }

    /// `path: message` without the `task "NAME": ` that the validator adds under
    /// `tasks[i]`: the suites using ``errors(_:format:cores:maxTasks:sourceLocation:)`` hold
    /// each rule's own text, and `SpecValidationTests.messagesNameTheTask` holds the names.
    static func withoutTaskName(_ description: String) -> String {
        guard let separator = description.range(of: ": task \""),
            let end = description[separator.upperBound...].range(of: "\": ")
        else { return description }
        return String(description[..<separator.lowerBound]) + ": " + description[end.upperBound...]
    }

    /// A native JSON spec whose run-level members are `run` and whose tasks are `tasks`
    /// (each a JSON object literal).
    static func json(run: String = "", tasks: [String]) -> String {
        let prefix = run.isEmpty ? "" : run + ","
        return "{\(prefix)\"tasks\":[\(tasks.joined(separator: ","))]}"
    }

    /// A task object literal with a name, a command and extra members.
    static func task(_ name: String, _ extra: String = "") -> String {
        let suffix = extra.isEmpty ? "" : "," + extra
        return "{\"name\":\(SpecValue.jsonQuoted(name)),\"command\":\"true\"\(suffix)}"
    }
}
