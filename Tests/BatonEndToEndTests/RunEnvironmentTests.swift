import Foundation
import Testing

/// What a task sees: environment, working directory, argv commands (SPEC §1).
@Suite(.timeLimit(.minutes(1)))
struct RunEnvironmentTests {
    @Test func environmentPrecedenceAndBatonVariables() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let probe = ["ONLY_BATON", "RUN_OVER_BATON", "TASK_OVER_ALL", "BATON_RUN_ID", "BATON_TASK", "BATON_ATTEMPT"]
            .map { "echo \"\($0)=$\($0)\"" }.joined(separator: "; ")
        let (exit, run) = try await scratch.run(
            spec: [
                "name": "env",
                "env": [
                    "DIR": scratch.directory.path, "RUN_OVER_BATON": "run", "TASK_OVER_ALL": "run",
                    "BATON_TASK": "spoofed by the run", "BATON_ATTEMPT": "99",
                ],
                "tasks": [
                    [
                        "name": "env probe", "env": ["TASK_OVER_ALL": "task", "BATON_RUN_ID": "spoofed by the task"],
                        "command": probe,
                    ]
                ],
            ],
            environment: ["ONLY_BATON": "baton", "RUN_OVER_BATON": "baton", "TASK_OVER_ALL": "baton"])
        #expect(exit.status == 0, "\(exit)")
        let log = try scratch.log(run, task: "env probe")
        #expect(
            log.split(separator: "\n").map(String.init) == [
                "ONLY_BATON=baton", "RUN_OVER_BATON=run", "TASK_OVER_ALL=task", "BATON_RUN_ID=\(run.id)",
                "BATON_TASK=env probe", "BATON_ATTEMPT=1",
            ], "\(log)")
    }

    @Test func serverTokenIsNotPassedToTasks() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(
            spec: ["name": "secrets", "tasks": [["name": "t", "command": "echo \"token=${BATON_TOKEN-unset}\""]]],
            environment: ["BATON_TOKEN": "s3cr3t"])
        #expect(exit.status == 0, "\(exit)")
        #expect(try scratch.log(run, task: "t") == "token=unset\n")
    }

    @Test func cwdSetsTheWorkingDirectory() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let workdir = scratch.path("work dir")
        let launch = scratch.path("launch")
        for path in [workdir, launch] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let spec = try scratch.writeSpec([
            "name": "cwd",
            "tasks": [
                ["name": "in cwd", "cwd": workdir, "command": "pwd -P"],
                ["name": "argv in cwd", "cwd": workdir, "command": ["pwd", "-P"]],
                ["name": "default cwd", "command": "pwd -P"],
            ],
        ])
        let (exit, run) = try await scratch.run(spec, directory: launch)
        #expect(exit.status == 0, "\(exit)")
        #expect(try scratch.log(run, task: "in cwd") == workdir + "\n")
        #expect(try scratch.log(run, task: "argv in cwd") == workdir + "\n")
        #expect(try scratch.log(run, task: "default cwd") == launch + "\n", "default is Baton's cwd")
    }

    @Test func argvCommandRunsWithoutAShell() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "argv",
            "mode": "waitall",
            "tasks": [
                ["name": "home", "command": ["printf", "%s", "$HOME"]],
                ["name": "words", "command": ["printf", "[%s]\\n", "a b", "c;d", "*", "$(id)", "'q'"]],
                ["name": "missing", "command": ["baton-e2e-no-such-program", "x"]],
                ["name": "string", "command": "printf '%s' \"$HOME\" | wc -c | tr -d ' \\n'"],
            ],
        ])
        #expect(exit.status == 1, "missing program fails the run: \(exit)")
        #expect(try scratch.log(run, task: "home") == "$HOME")
        #expect(try scratch.log(run, task: "words") == "[a b]\n[c;d]\n[*]\n[$(id)]\n['q']\n")
        let missing = try run.task("missing")
        #expect(missing.status == "failed")
        #expect(missing.reason != nil)
        // A string command does go through /bin/sh -c: $HOME expands.
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        #expect(try scratch.log(run, task: "string") == "\(home.utf8.count)")
        #expect(try run.task("home").status == "succeeded")
    }

    /// A task never waits on Baton's stdin (a terminal or a CI pipe): it reads /dev/null.
    @Test func tasksReadStdinFromDevNull() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "stdin", "kill_grace_seconds": 0.5,
            "tasks": [["name": "reader", "timeout_seconds": 10, "command": "cat; echo end of input"]],
        ])
        let stdin = Pipe()
        defer { try? stdin.fileHandleForWriting.close() }
        let baton = try scratch.startRun(spec, standardInput: stdin)
        try stdin.fileHandleForWriting.write(contentsOf: Data("from baton's stdin\n".utf8))
        let exit = try await baton.finish()
        let run = try RunOutput.decode(exit)
        #expect(exit.status == 0, "\(exit)")
        #expect(try run.task("reader").status == "succeeded")
        #expect(try scratch.log(run, task: "reader") == "end of input\n")
    }
}
