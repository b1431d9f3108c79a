import ArgumentParser

/// The `baton` binary: the server, a one-shot local runner, and a client (SPEC §5).
@main
struct BatonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Baton: an HTTP scheduling service for task graphs.",
        version: BatonVersion.current,
        subcommands: [
            ServeCommand.self, RunCommand.self, ValidateCommand.self, SubmitCommand.self, StatusCommand.self,
            CancelCommand.self, RetryCommand.self, LogsCommand.self, WorkflowsCommand.self,
        ]
    )
}
