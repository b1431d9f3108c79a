import Foundation
import Testing

@testable import BatonCore

/// `runs_on`: the labels a node needs to run a run's or a task's commands (cluster mode).
@Suite struct SpecRunsOnTests {
    @Test func aRunAndItsTasksSayWhichNodesTheyNeedAndATaskAddsToTheRun() throws {
        let text = """
            {"runs_on": {"zone": "a"},
             "tasks": [{"name": "train", "command": "true", "runs_on": {"gpu": "true", "zone": "b"}},
                       {"name": "plain", "command": "true"}]}
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(spec.runsOn == ["zone": "a"])
        #expect(spec.tasks[0].runsOn == ["gpu": "true", "zone": "b"])
        #expect(spec.tasks[1].runsOn.isEmpty)
        #expect(try SpecParser.parse(SpecEncoder.encode(spec), format: .json, cores: 8) == spec)
        // What the engine hands the executor: the run's labels under the task's.
        var engine = Engine(workers: 4)
        engine.add(
            RunMachine(
                record: RunRecord(id: "r", name: "n", createdAt: Date(), specJSON: Data(), specHash: ""), spec: spec,
                now: Date()), now: Date())
        let started = engine.takeActions().compactMap { action -> SpawnPlan? in
            if case .spawn(let plan) = action { return plan }
            return nil
        }
        #expect(started.first { $0.taskName == "train" }?.runsOn == ["gpu": "true", "zone": "b"])
        #expect(started.first { $0.taskName == "plain" }?.runsOn == ["zone": "a"])
    }

    @Test func yamlBooleansAndNumbersAreTakenAsTheirText() throws {
        let spec = try #require(
            SpecTest.parse(
                """
                tasks:
                  - name: a
                    command: "true"
                    runs_on: {gpu: true, rack: 7}
                """, format: .yaml))
        #expect(spec.tasks[0].runsOn == ["gpu": "true", "rack": "7"])
    }

    @Test func aSpecWithoutLabelsIsStoredAsBefore() throws {
        let spec = try #require(SpecTest.parse(#"{"tasks": [{"name": "a", "command": "true"}]}"#))
        #expect(!String(decoding: SpecEncoder.encode(spec), as: UTF8.self).contains("runs_on"))
    }

    @Test func badLabelsAreNamedWithTheirPaths() {
        let errors = SpecTest.errors(
            """
            {"runs_on": {"a=b": "x"},
             "tasks": [{"name": "a", "command": "true", "runs_on": {"gpu": ["x"]}},
                       {"name": "b", "command": "true", "runs_on": "gpu"}]}
            """)
        #expect(errors.contains(#"runs_on["a=b"]: is not a label name (not empty, no '=' or ',')"#))
        #expect(errors.contains { $0.hasPrefix("tasks[0].runs_on.gpu: ") && $0.contains("a string") })
        #expect(errors.contains { $0.hasPrefix("tasks[1].runs_on: ") })
    }
}
