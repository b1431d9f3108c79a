import Foundation
import Testing

/// `baton run --json`: dependencies, triggers, groups and sequential groups (SPEC §2).
@Suite(.timeLimit(.minutes(1)))
struct RunOrderingTests {
    @Test func dependenciesHonourAllSuccessAndAllDone() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "deps",
            "mode": "waitall",
            "tasks": [
                ["name": "ok", "command": "sleep 0.2"],
                ["name": "bad", "command": "sleep 0.1; exit 3"],
                ["name": "after ok", "depends_on": ["ok"], "command": "true"],
                ["name": "after bad", "depends_on": ["bad"], "command": "touch \"$DIR/after-bad-ran\""],
                ["name": "after after bad", "depends_on": ["after bad"], "command": "touch \"$DIR/chain-ran\""],
                ["name": "report", "depends_on": ["ok", "bad"], "trigger": "all_done", "command": "true"],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        #expect(
            run.statuses == [
                "ok": "succeeded", "bad": "failed", "after ok": "succeeded", "after bad": "skipped",
                "after after bad": "skipped", "report": "succeeded",
            ])
        let bad = try run.task("bad")
        #expect(bad.exitCode == 3)
        let afterBad = try run.task("after bad")
        #expect(afterBad.reason == "upstream failed: bad")
        #expect(afterBad.attempt == 0)
        #expect(afterBad.startedAt == nil)
        #expect(try run.task("after after bad").reason?.hasPrefix("upstream failed: ") == true)
        #expect(scratch.read("after-bad-ran") == nil)
        #expect(scratch.read("chain-ran") == nil)
        #expect(try run.task("after ok").started() >= run.task("ok").finished())
        let report = try run.task("report")
        #expect(try report.started() >= run.task("ok").finished())
        #expect(try report.started() >= bad.finished())
        #expect(run.counts["succeeded"] == 3 && run.counts["failed"] == 1 && run.counts["skipped"] == 2)
    }

    @Test func groupsRunInTheOrderListed() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "groups",
            "groups": [["name": "first"], ["name": "second"], ["name": "third"]],
            "tasks": [
                // Listed out of order on purpose: the group order decides.
                ["name": "t1", "group": "third", "command": "true"],
                ["name": "s1", "group": "second", "command": "sleep 0.1"],
                ["name": "s2", "group": "second", "command": "sleep 0.2"],
                ["name": "f1", "group": "first", "command": "sleep 0.5"],
                ["name": "f2", "group": "first", "command": "true"],
                // Ungrouped and without dependencies: starts at once, whatever the groups do.
                ["name": "free", "command": "true"],
            ],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.status == "succeeded")
        let first = try ["f1", "f2"].map { try run.task($0).finished() }.max()!
        let secondStart = try ["s1", "s2"].map { try run.task($0).started() }.min()!
        let secondEnd = try ["s1", "s2"].map { try run.task($0).finished() }.max()!
        #expect(secondStart >= first)
        #expect(try run.task("t1").started() >= secondEnd)
        #expect(try run.task("free").started() < run.task("f1").finished(), "ungrouped task waited for a group")
        #expect(try run.task("f1").group == "first")
        #expect(try run.task("free").group == nil)
    }

    @Test func sequentialGroupRunsOneAtATimeInListedOrder() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let names = ["one", "two", "three", "four"]
        let (exit, run) = try await scratch.run(spec: [
            "name": "sequential",
            "groups": [["name": "steps", "strategy": "sequential"]],
            "tasks": names.map { name in
                [
                    "name": name, "group": "steps",
                    "command":
                        "echo \"start $BATON_TASK\" >> \"$DIR/order\"; sleep 0.1; echo \"end $BATON_TASK\" >> \"$DIR/order\"",
                ]
            },
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(scratch.lines("order") == names.flatMap { ["start \($0)", "end \($0)"] })
        for (earlier, later) in zip(names, names.dropFirst()) {
            #expect(
                try run.task(later).started() >= run.task(earlier).finished(),
                "\(later) started before \(earlier) ended")
        }
    }

    @Test func runAcceptsANativeYAMLSpec() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "spec.yaml",
            """
            name: yaml-run
            tasks:
              - name: hello
                command: echo "hello from $BATON_TASK"
              - name: after
                depends_on: [hello]
                command: ["echo", "after"]
            """)
        let (exit, run) = try await scratch.run(spec)
        #expect(exit.status == 0, "\(exit)")
        #expect(run.name == "yaml-run")
        #expect(run.statuses == ["hello": "succeeded", "after": "succeeded"])
        #expect(try scratch.log(run, task: "hello") == "hello from hello\n")
        #expect(try scratch.log(run, task: "after") == "after\n")
        #expect(
            try Timestamps.parse(run.finishedAt, "run.finished_at") >= Timestamps.parse(run.startedAt, "run.started_at")
        )
        _ = try Timestamps.parse(run.createdAt, "run.created_at")
    }
}
