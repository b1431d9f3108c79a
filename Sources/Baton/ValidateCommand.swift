import ArgumentParser
import BatonCore

/// `baton validate FILE`: checks a spec and prints every error with its path.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a workflow spec (native JSON/YAML or the original YAML format).",
        discussion:
            "Prints each error on its own line as FILE: PATH: MESSAGE on stderr. Exit codes: 0 valid, 1 invalid.")

    @Argument(help: "The spec file (.json, .yaml, .yml).")
    var file: String

    func run() throws {
        guard let spec = SpecFile.load(file) else { throw BatonExit.failed }
        Console.out("\(file): ok (\(spec.tasks.count) tasks, \(spec.groups.count) groups)")
    }
}
