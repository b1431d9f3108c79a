import Foundation
import Testing

@testable import BatonCore

/// The value rules of SPEC §1: names, commands, numbers, modes, groups, notify, env.
@Suite struct SpecValidationTests {
    private func errors(run: String = "", tasks: [String]) -> [String] {
        SpecTest.errors(SpecTest.json(run: run, tasks: tasks))
    }

    @Test func tasksMustHaveAtLeastOneEntry() {
        #expect(errors(tasks: []) == ["tasks: must contain at least one task"])
    }

    @Test func moreThanMaxTasksIsRefusedBeforeDecoding() {
        let tasks = (0..<4).map { SpecTest.task("t\($0)") } + ["42"]
        #expect(
            SpecTest.errors(SpecTest.json(tasks: tasks), maxTasks: 4) == [
                "tasks: too many tasks (5; the limit is 4)"
            ])
        #expect(
            SpecValidator.validate(WorkflowSpec(tasks: [TaskSpec(name: "a", command: .shell("x"))]), maxTasks: 0) == [
                SpecError(path: "tasks", message: "too many tasks (1; the limit is 0)")
            ])
    }

    @Test func taskNamesAreOneToTwoHundredPrintableCharacters() {
        let long = String(repeating: "x", count: 201)
        let longWide = String(repeating: "é", count: 201)
        let okWide = String(repeating: "😀", count: 200)
        #expect(
            errors(tasks: [
                SpecTest.task(""), SpecTest.task(long), SpecTest.task("a\tb"), SpecTest.task("a\u{7F}"),
                SpecTest.task(longWide), SpecTest.task("x\u{2028}y"), SpecTest.task(okWide),
                SpecTest.task(String(repeating: "y", count: 200)), SpecTest.task("with spaces and ünïcode"),
            ]) == [
                "tasks[0].name: must not be empty",
                "tasks[1].name: must be at most 200 characters",
                "tasks[2].name: must not contain control characters",
                "tasks[3].name: must not contain control characters",
                "tasks[4].name: must be at most 200 characters",
                "tasks[5].name: must not contain control characters",
            ])
    }

    @Test func runAndGroupNamesFollowTheSameRule() {
        #expect(
            errors(run: #""name": "", "groups": [{"name": "a\nb"}]"#, tasks: [SpecTest.task("a")]) == [
                "name: must not be empty",
                "groups[0].name: must not contain control characters",
            ])
    }

    @Test func commandsMustNotBeEmpty() {
        #expect(
            errors(tasks: [
                #"{"name": "a", "command": ""}"#,
                #"{"name": "b", "command": "  \n "}"#,
                #"{"name": "c", "command": []}"#,
                #"{"name": "d", "command": ["", "x"]}"#,
                #"{"name": "e", "command": ["ls", ""]}"#,
                #"{"name": "f", "command": "x", "on_timeout": ""}"#,
                #"{"name": "g", "command": "x", "on_timeout": []}"#,
                #"{"name": "h", "command": "a\u0000b"}"#,
                #"{"name": "i", "command": ["ls", "a\u0000"]}"#,
            ]) == [
                "tasks[0].command: must not be empty",
                "tasks[1].command: must not be empty",
                "tasks[2].command: must not be empty",
                "tasks[3].command[0]: the program name must not be empty",
                "tasks[5].on_timeout: must not be empty",
                "tasks[6].on_timeout: must not be empty",
                "tasks[7].command: must not contain a NUL character",
                "tasks[8].command[1]: must not contain a NUL character",
            ])
    }

    @Test func runLevelNumbers() {
        #expect(
            errors(
                run: #""max_parallel": 0, "timeout_seconds": 0, "kill_grace_seconds": -1"#, tasks: [SpecTest.task("a")])
                == [
                    "max_parallel: must be at least 1",
                    "timeout_seconds: must be greater than 0",
                    "kill_grace_seconds: must not be negative",
                ])
        #expect(
            errors(
                run: #""timeout_seconds": -5, "kill_grace_seconds": 0, "max_parallel": 1"#, tasks: [SpecTest.task("a")])
                == [
                    "timeout_seconds: must be greater than 0"
                ])
    }

    @Test func taskNumbers() {
        #expect(
            errors(tasks: [
                SpecTest.task(
                    "a",
                    #""timeout_seconds": -1, "retries": -2, "retry_delay_seconds": -0.5, "retry_max_delay_seconds": 0"#),
                SpecTest.task("b", #""retry_exit_codes": [0, 255, 256, -1, 99999999999]"#),
                SpecTest.task(
                    "c",
                    #""timeout_seconds": 0, "retries": 0, "retry_delay_seconds": 0, "retry_max_delay_seconds": 0.1"#),
            ]) == [
                "tasks[1].retry_exit_codes[4]: must be an exit code between 0 and 255",
                "tasks[0].timeout_seconds: must not be negative",
                "tasks[0].retries: must not be negative",
                "tasks[0].retry_delay_seconds: must not be negative",
                "tasks[0].retry_max_delay_seconds: must be greater than 0",
            ])
        // With the out-of-Int32 code gone, the range check reaches the others.
        #expect(
            errors(tasks: [SpecTest.task("b", #""retry_exit_codes": [0, 255, 256, -1]"#)]) == [
                "tasks[0].retry_exit_codes[2]: must be an exit code between 0 and 255",
                "tasks[0].retry_exit_codes[3]: must be an exit code between 0 and 255",
            ])
    }

    @Test func numbersMustBeFinite() {
        let text = """
            timeout_seconds: .inf
            tasks:
              - name: a
                command: x
                timeout_seconds: .nan
                retry_max_delay_seconds: .inf
            """
        #expect(
            SpecTest.errors(text) == [
                "timeout_seconds: must be a finite number",
                "tasks[0].timeout_seconds: must be a finite number",
                "tasks[0].retry_max_delay_seconds: must be a finite number",
            ])
    }

    @Test func runalwaysIsOnlyForGroups() {
        #expect(
            errors(run: #""mode": "runalways""#, tasks: [SpecTest.task("a")]) == [
                "mode: runalways is only valid for a group"
            ])
        #expect(
            SpecTest.parse(
                SpecTest.json(run: #""groups": [{"name": "g", "mode": "runalways"}]"#, tasks: [SpecTest.task("a")]))
                != nil)
    }

    @Test func groupMaxParallel() {
        let run =
            #""groups": [{"name": "s", "strategy": "sequential", "max_parallel": 2}, {"name": "p", "max_parallel": 0}, {"name": "q", "max_parallel": 1}]"#
        #expect(
            errors(run: run, tasks: [SpecTest.task("a")]) == [
                "groups[0].max_parallel: only valid for a parallel group",
                "groups[1].max_parallel: must be at least 1",
            ])
    }

    @Test func notifyRules() {
        let run = """
            "notify": [
              {"url": "ftp://example.com/x"}, {"url": "example.com/hook"}, {"url": "https://"},
              {"url": "HTTPS://Example.com/ok", "on": []}, {"url": "http://127.0.0.1:8080/ok", "secret": ""}
            ]
            """
        #expect(
            errors(run: run, tasks: [SpecTest.task("a")]) == [
                "notify[0].url: must be an http or https URL",
                "notify[1].url: must be an http or https URL",
                "notify[2].url: must be an http or https URL",
                "notify[3].on: must list at least one status",
                "notify[4].secret: must not be empty",
            ])
        let spec = SpecTest.parse(
            SpecTest.json(run: #""notify": [{"url": "https://x.test/h"}]"#, tasks: [SpecTest.task("a")]))
        #expect(spec?.notify == [NotifySpec(url: "https://x.test/h", on: [.failed, .timedOut])])
    }

    @Test func envValuesMustBeStringsAndNamesUsable() {
        let text = """
            env:
              PORT: 8080
              "": x
              "A=B": y
              OK: "fine"
            tasks:
              - name: a
                command: x
                env: {DEBUG: true, "X": "\\0"}
            """
        #expect(
            SpecTest.errors(text) == [
                "env.PORT: expected a string, got an integer",
                "tasks[0].env.DEBUG: expected a string, got a boolean",
            ])
        let names = SpecTest.errors(
            SpecTest.json(
                run: #""env": {"": "x", "A=B": "y"}"#, tasks: [SpecTest.task("a", #""env": {"V": "a\u0000"}"#)]))
        #expect(
            names.sorted() == [
                #"env[""]: variable name must not be empty"#,
                #"env["A=B"]: variable name must not contain "=" or NUL"#,
                "tasks[0].env.V: must not contain a NUL character",
            ])
    }

    @Test func cwdMustNotBeEmpty() {
        #expect(errors(tasks: [SpecTest.task("a", #""cwd": """#)]) == ["tasks[0].cwd: must not be empty"])
    }

    @Test func validatorAcceptsSpecsBuiltInCode() {
        let spec = WorkflowSpec(
            groups: [GroupSpec(name: "g", strategy: .sequential)],
            tasks: [
                TaskSpec(name: "a", command: .argv(["true"]), group: "g"),
                TaskSpec(name: "b", command: .shell("x"), group: "g", dependsOn: ["a"]),
            ])
        #expect(SpecValidator.validate(spec).isEmpty)
        var bad = spec
        bad.tasks[1].retries = -1
        bad.notify = [NotifySpec(url: "https://x.test", on: [.running])]
        #expect(
            SpecValidator.validate(bad).map(\.description) == [
                #"tasks[1].retries: task "b": must not be negative"#,
                #"notify[0].on[0]: must be one of succeeded, failed, timed_out, cancelled (got "running")"#,
            ])
    }

    /// Under `tasks[i]` a message names the task too: in a spec of hundreds of tasks,
    /// `tasks[137]` alone sends the reader counting.
    @Test func messagesNameTheTask() {
        let text = SpecTest.json(tasks: [
            SpecTest.task("ok"), #"{"name":"solo","command":"true","depends_on":["solo"],"retries":-1}"#,
            #"{"name":"","command":"true"}"#,
        ])
        let errors: [String]
        do {
            _ = try SpecParser.parse(Data(text.utf8), format: .json)
            errors = []
        } catch {
            errors = error.errors.map(\.description)
        }
        #expect(errors.contains(#"tasks[1].depends_on[0]: task "solo": cannot depend on itself"#), "\(errors)")
        #expect(errors.contains(#"tasks[1].retries: task "solo": must not be negative"#), "\(errors)")
        // A problem with the name itself, or a task without a usable name, is not prefixed.
        #expect(errors.contains { $0.hasPrefix("tasks[2].name: ") && !$0.contains("task \"") }, "\(errors)")
    }
}
