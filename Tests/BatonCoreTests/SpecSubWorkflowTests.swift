import Foundation
import Testing

@testable import BatonCore

/// Tasks that run a workflow: written in place (`tasks`, `groups`, `mode`, `max_parallel`)
/// or by name (`workflow`), stored resolved, and checked for recursion and depth.
@Suite struct SpecSubWorkflowTests {
    @Test func aNestedWorkflowIsParsedAndStoredInPlace() throws {
        let text = """
            {"tasks": [{"name": "deploy", "mode": "failfast", "max_parallel": 2,
                        "groups": [{"name": "g", "strategy": "sequential"}],
                        "tasks": [{"name": "a", "command": "true", "group": "g"},
                                  {"name": "b", "command": "true", "group": "g"}]},
                       {"name": "after", "command": "true", "depends_on": ["deploy"]}]}
            """
        let spec = try #require(SpecTest.parse(text))
        let nested = try #require(spec.tasks[0].subWorkflow?.spec)
        #expect(nested.name == "deploy")
        #expect(nested.mode == .failfast && nested.maxParallel == 2)
        #expect(nested.tasks.map(\.name) == ["a", "b"])
        #expect(spec.tasks[0].timeoutSeconds == 0, "no 300 s default for a workflow")
        let stored = try SpecParser.parse(SpecEncoder.encode(spec), format: .json, cores: 8)
        #expect(stored == spec)
    }

    @Test func mistakesInsideANestedWorkflowCarryTheTaskPath() {
        let errors = SpecTest.errors(
            """
            {"tasks": [{"name": "x", "command": "true", "tasks": [{"name": "a", "command": "true"}]},
                       {"name": "y", "tasks": [{"name": "a", "command": "true", "depends_on": ["nope"]}]},
                       {"name": "z", "groups": []},
                       {"name": "w", "workflow": "stored", "forever": true}]}
            """)
        #expect(
            Set(errors) == [
                "tasks[0].command: a task runs a command or a workflow (workflow, tasks), not both",
                "tasks[1].tasks[0].depends_on[0]: unknown task \"nope\"",
                "tasks[2].tasks: is required with groups, mode or max_parallel (they describe a nested workflow)",
                "tasks[3].forever: a task that runs a workflow cannot be forever",
            ], "\(errors)")
    }

    @Test func storedWorkflowsAreResolvedAndRecursionFound() throws {
        let stored: [String: WorkflowSpec] = [
            "leaf": WorkflowSpec(env: ["A": "1"], tasks: [TaskSpec(name: "t", command: .shell("true"))]),
            "loop": WorkflowSpec(
                tasks: [TaskSpec(name: "again", command: .argv([]), subWorkflow: SubWorkflow(name: "loop", spec: nil))]
            ),
        ]
        let calling = WorkflowSpec(
            tasks: [
                TaskSpec(
                    name: "call", command: .argv([]), env: ["A": "2"], subWorkflow: SubWorkflow(name: "leaf", spec: nil)
                )
            ])
        let resolved = try SubWorkflowResolver.resolve(calling) { stored[$0] }
        #expect(resolved.tasks[0].subWorkflow?.spec?.tasks.map(\.name) == ["t"])
        #expect(resolved.tasks[0].env == ["A": "2"], "the task's env wins over the stored one")
        let looping = WorkflowSpec(
            tasks: [TaskSpec(name: "go", command: .argv([]), subWorkflow: SubWorkflow(name: "loop", spec: nil))])
        #expect(throws: SpecErrors.self) { try SubWorkflowResolver.resolve(looping) { stored[$0] } }
        do {
            _ = try SubWorkflowResolver.resolve(looping) { stored[$0] }
        } catch let errors as SpecErrors {
            #expect(
                errors.errors.map(\.description) == [
                    "tasks[0].tasks[0].workflow: task \"again\": recursive workflow loop -> loop"
                ])
        }
    }
}
