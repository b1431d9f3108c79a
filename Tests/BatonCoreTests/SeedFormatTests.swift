import Foundation
import Testing

@testable import BatonCore

/// The original scheduler's YAML format (seed 000), accepted verbatim.
@Suite struct SeedFormatTests {
    /// The sample from `seeds/000_71764f0d8bba79ff.txt`, byte for byte (trailing blanks included).
    static let sample = """

        #   1) waitcurrent: If a task fails, wait for all the running tasks to finish, but don't schedule new tasks.
        #   2) failfast: Immediately exit when a task fails.
        #   3) waitall: Schedules all tasks, ignoring failures. At the end will exit with error code if any tasks failed.
        #   4) runalways : Execute all tasks in a group regardless of any failues from other groups
        #

        ## YAML Level mode, modes define in group override this mode
        mode: waitall


        groups:
            - Group: GroupOne
              Strategy: sequential
            - Group: GroupTwo
              Strategy: sequential
              Mode: runalways

        # tasks specifies the task to run
        # - Command: <task command>
        #   Name: <task name>
        #   Group: <group name>
        #   TimeoutInMinutes: <Timeout for the task, defaults to 5 minutes if not given>
        #   RunCommandOnTimeout: <Command to run on timeout>
        #   
        tasks:
             - Command: pwsh script-one.ps1
               Name: Script One
               Group: GroupOne
               TimeoutInMinutes: 5
               RunCommandOnTimeout: python hello-world.py

             - Command: bash script-two.sh
               Name: Script Two
               Group: GroupTwo
               TimeoutInMinutes: 5
               RunCommandOnTimeout: python hello-world.py
         

        """

    @Test func theSampleIsAcceptedVerbatim() throws {
        let spec = try #require(SpecTest.parse(Self.sample))
        #expect(
            spec
                == WorkflowSpec(
                    name: "run", mode: .waitall,
                    groups: [
                        GroupSpec(name: "GroupOne", strategy: .sequential),
                        GroupSpec(name: "GroupTwo", strategy: .sequential, mode: .runalways),
                    ],
                    tasks: [
                        TaskSpec(
                            name: "Script One", command: .shell("pwsh script-one.ps1"), group: "GroupOne",
                            timeoutSeconds: 300,
                            onTimeout: .shell("python hello-world.py")),
                        TaskSpec(
                            name: "Script Two", command: .shell("bash script-two.sh"), group: "GroupTwo",
                            timeoutSeconds: 300,
                            onTimeout: .shell("python hello-world.py")),
                    ]))
    }

    @Test func theSampleMatchesTheSeedFileWhenItIsThere() throws {
        // The copy above must not drift from the seed (shared/ sits beside the repository).
        let seed = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/seeds/000_71764f0d8bba79ff.txt")
        guard let text = try? String(contentsOf: seed, encoding: .utf8) else { return }
        let start = try #require(text.range(of: "```yaml\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        #expect(String(text[start.upperBound..<end.lowerBound]) == Self.sample)
    }

    @Test func parallelGroupsGetHalfTheCores() throws {
        let text = """
            groups:
              - Group: A
              - Group: B
                Strategy: Parallel
              - Group: C
                Strategy: sequential
            tasks:
              - Name: x
                Command: echo x
                Group: A
            """
        #expect(SpecTest.parse(text, cores: 8)?.groups.map(\.maxParallel) == [4, 4, nil])
        #expect(SpecTest.parse(text, cores: 3)?.groups.map(\.maxParallel) == [1, 1, nil])
        #expect(SpecTest.parse(text, cores: 1)?.groups.map(\.maxParallel) == [1, 1, nil])
        #expect(SpecTest.parse(text)?.groups.map(\.strategy) == [.parallel, .parallel, .sequential])
    }

    @Test func minutesBecomeSecondsWithFractionsAndADefault() throws {
        let text = """
            tasks:
              - {Name: a, Command: x}
              - {Name: b, Command: x, TimeoutInMinutes: 0.5}
              - {Name: c, Command: x, TimeoutInMinutes: 0}
              - {Name: d, Command: x, TimeoutInMinutes: 90}
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(spec.tasks.map(\.timeoutSeconds) == [300, 30, 0, 5400])
        #expect(spec.mode == .waitcurrent && spec.name == "run" && spec.groups.isEmpty)
    }

    @Test func modeAndStrategyAreCaseInsensitive() throws {
        let text = """
            mode: FailFast
            groups:
              - {Group: g, Strategy: SEQUENTIAL, Mode: waitAll}
            tasks:
              - {Name: a, Command: x, Group: g}
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(spec.mode == .failfast)
        #expect(spec.groups == [GroupSpec(name: "g", strategy: .sequential, mode: .waitall)])
    }

    @Test func detectedByGroupsAlone() throws {
        // No task uses a capitalised key, but a group does: the task must too.
        let text = """
            groups: [{Group: g}]
            tasks: [{name: a, command: x}]
            """
        #expect(
            SpecTest.errors(text) == [
                #"tasks[0].name: unknown key (did you mean "Name"?)"#,
                #"tasks[0].command: unknown key (did you mean "Command"?)"#,
                "tasks[0].Name: is required",
                "tasks[0].Command: is required",
            ])
    }

    @Test func unknownKeysAndBadValuesUseTheFormatsOwnPaths() {
        let text = """
            mode: runalways
            name: nope
            groups:
              - Group: g
                Strategy: sideways
                MaxParallel: 3
              - Strategy: parallel
              - Group: g
            tasks:
              - Command: ""
                Name: a
                Group: missing
                TimeoutInMinutes: -1
                RunCommandOnTimeout: "  "
                Retries: 2
              - Command: [ls]
                Name: a
                TimeoutInMinutes: soon
              - Name: b
            """
        #expect(
            SpecTest.errors(text) == [
                #"name: unknown key"#,
                #"groups[0].Strategy: must be one of sequential, parallel (got "sideways")"#,
                #"groups[0].MaxParallel: unknown key"#,
                "groups[1].Group: is required",
                "tasks[0].Retries: unknown key",
                "tasks[1].Command: expected a string, got a list",
                "tasks[1].TimeoutInMinutes: expected a number, got a string",
                "tasks[2].Command: is required",
                "mode: runalways is only valid for a group",
                #"tasks[0].Command: must not be empty"#,
                #"tasks[0].RunCommandOnTimeout: must not be empty"#,
                #"tasks[0].TimeoutInMinutes: must not be negative"#,
                #"groups[2].Group: duplicate group name "g" (first used by groups[0])"#,
                #"tasks[1].Name: duplicate task name "a" (first used by tasks[0])"#,
                #"tasks[0].Group: unknown group "missing""#,
            ])
    }

    @Test func theSampleAlsoWorksAsJSON() throws {
        let text = #"{"mode": "waitall", "tasks": [{"Name": "a", "Command": "x", "TimeoutInMinutes": 1}]}"#
        #expect(SpecTest.parse(text)?.tasks == [TaskSpec(name: "a", command: .shell("x"), timeoutSeconds: 60)])
    }
}
