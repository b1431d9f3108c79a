import Foundation
import Testing

/// `baton validate FILE`: exit 0 valid, 1 invalid, every error as `FILE: PATH: MESSAGE` on stderr.
@Suite(.timeLimit(.minutes(1)))
struct ValidateCommandTests {
    @Test func validateAcceptsNativeJSON() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "valid.json",
            """
            {
              "name": "ok-json",
              "mode": "waitall",
              "max_parallel": 2,
              "groups": [{"name": "build", "strategy": "sequential"}, {"name": "clean", "mode": "runalways"}],
              "tasks": [
                {"name": "compile", "group": "build", "command": "echo compile"},
                {"name": "test", "group": "build", "command": ["echo", "test"], "depends_on": ["compile"],
                 "retries": 2, "retry_exit_codes": [75], "timeout_seconds": 1.5},
                {"name": "tidy up", "group": "clean", "command": "true", "env": {"A": "b"}}
              ]
            }
            """)
        let exit = try await scratch.baton(["validate", spec])
        #expect(exit.status == 0, "\(exit)")
        #expect(exit.stderr.isEmpty, "\(exit)")
    }

    @Test func validateAcceptsNativeYAML() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "valid.yaml",
            """
            name: ok-yaml
            mode: failfast
            env:
              GREETING: hello
            groups:
              - name: work
              - name: cleanup
                mode: runalways
            tasks:
              - name: fetch
                group: work
                command: echo "$GREETING"
              - name: build
                group: work
                depends_on: [fetch]
                trigger: all_done
                command: ["sh", "-c", "echo build"]
                on_timeout: echo too slow
              - name: cleanup
                group: cleanup
                command: echo done
            """)
        let exit = try await scratch.baton(["validate", spec])
        #expect(exit.status == 0, "\(exit)")
        #expect(exit.stderr.isEmpty, "\(exit)")
    }

    @Test func validateAcceptsTheSeed000Sample() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = TestSupport.examples.appendingPathComponent("seed-000/scheduler.yaml").path
        let exit = try await scratch.baton(["validate", spec])
        #expect(exit.status == 0, "\(exit)")
        #expect(exit.stderr.isEmpty, "\(exit)")
    }

    @Test func validateReportsEveryErrorWithItsPath() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "invalid.yaml",
            """
            name: broken
            colour: blue
            tasks:
              - name: a
                command: echo a
                depends_on: [b]
              - name: b
                command: echo b
                depends_on: [a, ghost]
            """)
        let exit = try await scratch.baton(["validate", spec])
        #expect(exit.status == 1, "\(exit)")
        #expect(exit.stdout.isEmpty, "\(exit)")
        let lines = exit.errorLines
        #expect(lines.count >= 3, "\(exit)")
        for line in lines {
            #expect(line.hasPrefix("\(spec): "), "not FILE: PATH: MESSAGE: \(line)")
        }
        let errors = lines.map { $0.dropFirst(spec.count + 2) }
        #expect(errors.contains { $0.hasPrefix("colour: ") && $0.contains("unknown key") }, "\(exit)")
        #expect(errors.contains { $0.hasPrefix("tasks[1].depends_on[1]: ") && $0.contains("ghost") }, "\(exit)")
        #expect(
            errors.contains { $0.hasPrefix("tasks[") && ($0.contains("a -> b -> a") || $0.contains("b -> a -> b")) },
            "\(exit)")
    }

    /// One more invalid spec per kind of mistake SPEC §1 lists: exit 1 and the path named.
    @Test(arguments: [
        (#"{"tasks": [{"name": "x", "command": "true"}, {"name": "x", "command": "true"}]}"#, "tasks[1].name"),
        (#"{"tasks": [{"name": "x", "command": "true", "group": "nope"}]}"#, "tasks[0].group"),
        (#"{"tasks": [{"name": "x", "command": ""}]}"#, "tasks[0].command"),
        (#"{"tasks": [{"name": "x", "command": []}]}"#, "tasks[0].command"),
        (#"{"tasks": [{"name": "x", "command": "true", "retries": -1}]}"#, "tasks[0].retries"),
        (#"{"tasks": [{"name": "x", "command": "true", "timeout_seconds": "ten"}]}"#, "tasks[0].timeout_seconds"),
        (#"{"mode": "sometimes", "tasks": [{"name": "x", "command": "true"}]}"#, "mode"),
        (#"{"max_parallel": 0, "tasks": [{"name": "x", "command": "true"}]}"#, "max_parallel"),
        (#"{"tasks": []}"#, "tasks"),
        (
            #"{"groups": [{"name": "one"}, {"name": "two"}], "tasks": [{"name": "x", "group": "one", "command": "true", "depends_on": ["y"]}, {"name": "y", "group": "two", "command": "true"}]}"#,
            "tasks[0].depends_on[0]"
        ),
    ])
    func validateNamesThePathOfEachKindOfError(spec text: String, path: String) async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write("invalid.json", text)
        let exit = try await scratch.baton(["validate", spec])
        #expect(exit.status == 1, "\(exit)")
        #expect(exit.errorLines.contains { $0.hasPrefix("\(spec): \(path): ") }, "expected \(path): \(exit)")
    }

    @Test func validateOfAMissingFileFails() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let exit = try await scratch.baton(["validate", scratch.path("nope.yaml")])
        #expect(exit.status == 1, "\(exit)")
        #expect(exit.errorLines.count == 1, "\(exit)")
    }
}
