import Foundation
import Testing

@testable import BatonCore

/// The native format end to end: keys, types, defaults, and decoding errors with paths.
@Suite struct SpecParserTests {
    @Test func minimalSpecGetsEveryDefault() throws {
        let spec = try #require(SpecTest.parse(#"{"tasks": [{"name": "a", "command": "echo hi"}]}"#))
        #expect(spec == WorkflowSpec(tasks: [TaskSpec(name: "a", command: .shell("echo hi"))]))
        #expect(spec.name == "run")
        #expect(spec.mode == .waitcurrent)
        #expect(spec.maxParallel == nil)
        #expect(spec.timeoutSeconds == nil)
        #expect(spec.killGraceSeconds == 10)
        #expect(spec.env.isEmpty && spec.groups.isEmpty && spec.notify.isEmpty)
        let task = spec.tasks[0]
        #expect(task.group == nil && task.dependsOn.isEmpty && task.trigger == .allSuccess)
        #expect(task.timeoutSeconds == 300 && task.onTimeout == nil)
        #expect(task.retries == 0 && task.retryExitCodes.isEmpty && task.retryDelaySeconds == 0)
        #expect(task.retryBackoff == .fixed && task.retryMaxDelaySeconds == 3600)
        #expect(!task.critical && !task.forever && task.restartable)
        #expect(task.env.isEmpty && task.cwd == nil)
    }

    @Test func everyNativeKeyIsRead() throws {
        let text = """
            {
              "name": "nightly", "mode": "failfast", "max_parallel": 4, "timeout_seconds": 3600.5,
              "kill_grace_seconds": 2, "env": {"A": "1"},
              "groups": [
                {"name": "build", "strategy": "parallel", "mode": "waitall", "max_parallel": 2},
                {"name": "cleanup", "strategy": "sequential", "mode": "runalways"}
              ],
              "tasks": [
                {"name": "compile", "command": ["make", "-j4"], "group": "build", "trigger": "all_done",
                 "timeout_seconds": 0, "on_timeout": "echo late", "retries": 3, "retry_exit_codes": [75, 2],
                 "retry_delay_seconds": 1.5, "retry_backoff": "exponential", "retry_max_delay_seconds": 60,
                 "critical": true, "forever": false, "restartable": false, "env": {"B": "2"}, "cwd": "/src"},
                {"name": "db", "command": "postgres", "forever": true, "on_timeout": ["kill", "-9"]},
                {"name": "rm", "command": "rm -rf out", "group": "cleanup", "depends_on": ["compile"]}
              ],
              "notify": [
                {"url": "https://hooks.example.com/x", "on": ["failed", "succeeded"], "secret": "s3"},
                {"url": "http://localhost:9/y"}
              ]
            }
            """
        let spec = try #require(SpecTest.parse(text))
        let expected = WorkflowSpec(
            name: "nightly", mode: .failfast, maxParallel: 4, timeoutSeconds: 3600.5, killGraceSeconds: 2,
            env: ["A": "1"],
            groups: [
                GroupSpec(name: "build", strategy: .parallel, mode: .waitall, maxParallel: 2),
                GroupSpec(name: "cleanup", strategy: .sequential, mode: .runalways),
            ],
            tasks: [
                TaskSpec(
                    name: "compile", command: .argv(["make", "-j4"]), group: "build", trigger: .allDone,
                    timeoutSeconds: 0, onTimeout: .shell("echo late"), retries: 3, retryExitCodes: [75, 2],
                    retryDelaySeconds: 1.5, retryBackoff: .exponential, retryMaxDelaySeconds: 60, critical: true,
                    forever: false, restartable: false, env: ["B": "2"], cwd: "/src"),
                TaskSpec(name: "db", command: .shell("postgres"), onTimeout: .argv(["kill", "-9"]), forever: true),
                TaskSpec(name: "rm", command: .shell("rm -rf out"), group: "cleanup", dependsOn: ["compile"]),
            ],
            notify: [
                NotifySpec(url: "https://hooks.example.com/x", on: [.failed, .succeeded], secret: "s3"),
                NotifySpec(url: "http://localhost:9/y"),
            ])
        #expect(spec == expected)
    }

    @Test func yamlUsesTheSameKeys() throws {
        let text = """
            name: deploy
            env:
              STAGE: prod
            tasks:
              - name: build
                command: make
              - name: ship it
                command: [scp, out, "host:"]
                depends_on: [build]
                retries: 2
                timeout_seconds: 1.5
            notify:
              - url: https://example.com/hook
                on: [failed, timed_out, cancelled]
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(spec.name == "deploy" && spec.env == ["STAGE": "prod"])
        #expect(
            spec.tasks[1]
                == TaskSpec(
                    name: "ship it", command: .argv(["scp", "out", "host:"]), dependsOn: ["build"], timeoutSeconds: 1.5,
                    retries: 2))
        #expect(spec.notify == [NotifySpec(url: "https://example.com/hook", on: [.failed, .timedOut, .cancelled])])
    }

    @Test func explicitFormatIsHonoured() {
        // Valid YAML, but not JSON.
        #expect(
            SpecTest.errors("tasks: []", format: .json) == [
                "invalid JSON at line 1, column 1: unexpected character 't', expected a value"
            ])
        let json = SpecTest.json(tasks: [SpecTest.task("a")])
        #expect(SpecTest.parse(json, format: .yaml)?.tasks.count == 1)  // JSON is YAML too
    }

    @Test func nullMeansNotGiven() throws {
        let text = """
            name: r
            env:
            groups:
            max_parallel:
            tasks:
              - name: a
                command: x
                depends_on:
                group: ~
                env:
            notify:
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(spec == WorkflowSpec(name: "r", tasks: [TaskSpec(name: "a", command: .shell("x"))]))
    }

    @Test func wholeNumbersAreAcceptedAsIntegers() throws {
        let spec = try #require(
            SpecTest.parse(SpecTest.json(run: #""max_parallel": 2.0"#, tasks: [SpecTest.task("a", #""retries": 3.0"#)]))
        )
        #expect(spec.maxParallel == 2 && spec.tasks[0].retries == 3)
    }

    @Test func topLevelMustBeAMap() {
        #expect(SpecTest.errors("[1, 2]") == ["expected a map at the top level, got a list"])
        #expect(SpecTest.errors("just words") == ["expected a map at the top level, got a string"])
        #expect(SpecTest.errors("~") == ["expected a map at the top level, got null"])
        #expect(SpecTest.errors("   ") == ["the spec is empty"])
    }

    @Test func syntaxErrorsAreOneErrorWithAnEmptyPath() throws {
        do {
            _ = try SpecParser.parse(Data("{\"tasks\": [}".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(
                error.errors == [
                    SpecError(
                        path: "",
                        message: "invalid JSON at line 1, column 12: unexpected character '}', expected a value")
                ])
        }
    }

    @Test func unknownKeysAreReportedWithTheirPathAndAHint() {
        let text = SpecTest.json(
            run:
                #""nmae": "x", "Env": {}, "groups": [{"name": "g", "strategey": "parallel"}], "notify": [{"url": "http://x", "events": []}]"#,
            tasks: [SpecTest.task("a", #""dependson": [], "timeout": 5, "zzz": 1, "weird key": null"#)])
        #expect(
            SpecTest.errors(text) == [
                #"nmae: unknown key (did you mean "name"?)"#,
                #"Env: unknown key (did you mean "env"?)"#,
                #"groups[0].strategey: unknown key (did you mean "strategy"?)"#,
                #"notify[0].events: unknown key"#,
                #"tasks[0].dependson: unknown key (did you mean "depends_on"?)"#,
                #"tasks[0].timeout: unknown key (did you mean "timeout_seconds"?)"#,
                #"tasks[0].zzz: unknown key"#,
                #"tasks[0]["weird key"]: unknown key"#,
            ])
    }

    @Test func wrongTypesAreReportedWithTheirPath() {
        let text = SpecTest.json(
            run:
                #""name": 5, "mode": true, "max_parallel": "4", "timeout_seconds": "1h", "kill_grace_seconds": [], "env": {"A": 1, "B": "ok", "C": null}, "groups": {}, "notify": "x""#,
            tasks: [
                #"{"name": ["a"], "command": {"sh": "x"}, "group": 1, "depends_on": "b", "trigger": 1, "timeout_seconds": true, "on_timeout": 5, "retries": 1.5, "retry_exit_codes": [1, "2", 3.5], "retry_delay_seconds": "1", "retry_backoff": null, "retry_max_delay_seconds": {}, "critical": "yes", "forever": 1, "restartable": "true", "env": [], "cwd": 7}"#,
                #"{"name": "b", "command": ["ls", 5], "depends_on": ["a", 2]}"#,
                "3",
            ])
        #expect(
            SpecTest.errors(text) == [
                "name: expected a string, got an integer",
                "mode: expected a string, got a boolean",
                "max_parallel: expected an integer, got a string",
                "timeout_seconds: expected a number, got a string",
                "kill_grace_seconds: expected a number, got a list",
                "env.A: expected a string, got an integer",
                "env.C: expected a string, got null",
                "groups: expected a list, got a map",
                "notify: expected a list, got a string",
                "tasks[0].name: expected a string, got a list",
                "tasks[0].command: expected a string or a list of strings, got a map",
                "tasks[0].group: expected a string, got an integer",
                "tasks[0].depends_on: expected a list, got a string",
                "tasks[0].trigger: expected a string, got an integer",
                "tasks[0].timeout_seconds: expected a number, got a boolean",
                "tasks[0].on_timeout: expected a string or a list of strings, got an integer",
                "tasks[0].retries: expected an integer, got 1.5",
                "tasks[0].retry_exit_codes[1]: expected an integer, got a string",
                "tasks[0].retry_exit_codes[2]: expected an integer, got 3.5",
                "tasks[0].retry_delay_seconds: expected a number, got a string",
                "tasks[0].retry_max_delay_seconds: expected a number, got a map",
                "tasks[0].critical: expected a boolean, got a string",
                "tasks[0].forever: expected a boolean, got an integer",
                "tasks[0].restartable: expected a boolean, got a string",
                "tasks[0].env: expected a map, got a list",
                "tasks[0].cwd: expected a string, got an integer",
                "tasks[1].command[1]: expected a string, got an integer",
                "tasks[1].depends_on[1]: expected a string, got an integer",
                "tasks[2]: expected a map, got an integer",
            ])
    }

    @Test func enumValuesMustBeKnown() {
        let text = SpecTest.json(
            run:
                #""mode": "fast", "groups": [{"name": "g", "strategy": "serial", "mode": "always"}], "notify": [{"url": "http://x", "on": ["failed", "done", "running"]}]"#,
            tasks: [SpecTest.task("a", #""trigger": "any", "retry_backoff": "linear""#)])
        #expect(
            SpecTest.errors(text) == [
                #"mode: must be one of failfast, waitcurrent, waitall, runalways (got "fast")"#,
                #"groups[0].strategy: must be one of sequential, parallel (got "serial")"#,
                #"groups[0].mode: must be one of failfast, waitcurrent, waitall, runalways (got "always")"#,
                #"notify[0].on[1]: must be one of succeeded, failed, timed_out, cancelled (got "done")"#,
                #"notify[0].on[2]: must be one of succeeded, failed, timed_out, cancelled (got "running")"#,
                #"tasks[0].trigger: must be one of all_success, all_done (got "any")"#,
                #"tasks[0].retry_backoff: must be one of fixed, exponential (got "linear")"#,
            ])
    }

    @Test func nativeValuesAreCaseSensitive() {
        #expect(
            SpecTest.errors(SpecTest.json(run: #""mode": "FailFast""#, tasks: [SpecTest.task("a")])) == [
                #"mode: must be one of failfast, waitcurrent, waitall, runalways (got "FailFast")"#
            ])
    }

    @Test func requiredKeysAreReported() {
        #expect(SpecTest.errors("{}") == ["tasks: is required"])
        #expect(SpecTest.errors(#"{"tasks": null}"#) == ["tasks: expected a list, got null"])
        let text = SpecTest.json(
            run: #""groups": [{"strategy": "parallel"}], "notify": [{"on": ["failed"]}]"#,
            tasks: [#"{"command": "x"}"#, #"{"name": "b"}"#, #"{"name": null, "command": null}"#])
        #expect(
            SpecTest.errors(text) == [
                "groups[0].name: is required",
                "notify[0].url: is required",
                "tasks[0].name: is required",
                "tasks[1].command: is required",
                "tasks[2].name: expected a string, got null",
                "tasks[2].command: expected a string or a list of strings, got null",
            ])
    }

    @Test func everyErrorIsCollectedInDocumentOrder() {
        let text = """
            tasks:
              - name: a
                command: ""
                retries: -1
              - name: a
                command: x
                depends_on: [zz]
              - name: c
                command: [""]
                typo: 1
            """
        #expect(
            SpecTest.errors(text) == [
                "tasks[2].typo: unknown key",
                "tasks[0].command: must not be empty",
                "tasks[0].retries: must not be negative",
                "tasks[2].command[0]: the program name must not be empty",
                #"tasks[1].name: duplicate task name "a" (first used by tasks[0])"#,
                #"tasks[1].depends_on[0]: unknown task "zz""#,
            ])
    }

    @Test func errorsDescribeThemselves() {
        let errors = SpecErrors([
            SpecError(path: "tasks[3].depends_on[0]", message: #"unknown task "x""#),
            SpecError(path: "", message: "the spec is empty"),
        ])
        #expect(errors.description == "tasks[3].depends_on[0]: unknown task \"x\"\nthe spec is empty")
    }
}
