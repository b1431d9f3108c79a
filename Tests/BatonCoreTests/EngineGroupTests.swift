import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 groups: listed order, `sequential`, group mode.
@Suite struct EngineGroupTests {
    @Test func groupedTaskStartsOnlyAfterEveryTaskOfEarlierGroupsEnded() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "g1"), GroupSpec(name: "g2"), GroupSpec(name: "g3")],
                tasks: [
                    Fx.task("c", group: "g3"), Fx.task("b", group: "g2"),
                    Fx.task("a1", group: "g1"), Fx.task("a2", group: "g1"),
                ]))
        #expect(h.liveNames() == ["a1", "a2"])
        h.exit("a1")
        #expect(h.liveNames() == ["a2"])
        h.exit("a2")
        #expect(h.liveNames() == ["b"])
        h.exit("b")
        #expect(h.liveNames() == ["c"])
        h.exit("c")
        #expect(h.spawnOrder() == ["a1", "a2", "b", "c"])
        #expect(h.runStatus() == .succeeded)
    }

    @Test func emptyAndFinishedGroupsOpenTheNextOne() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "empty"), GroupSpec(name: "g")],
                tasks: [Fx.task("x", group: "g")]))
        #expect(h.liveNames() == ["x"])
    }

    @Test func laterGroupWaitsForAFailedEarlierGroupUnderWaitall() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                groups: [GroupSpec(name: "g1"), GroupSpec(name: "g2")],
                tasks: [
                    Fx.task("a", group: "g1"), Fx.task("b", group: "g1"),
                    Fx.task("c", group: "g2"),
                ]))
        h.exit("a", code: 1)
        #expect(h.liveNames() == ["b"])
        h.exit("b")
        #expect(h.liveNames() == ["c"])
        h.exit("c")
        #expect(h.status("c") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func sequentialGroupRunsOneAtATimeInListedOrder() {
        var h = EngineHarness(workers: 8)
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "steps", strategy: .sequential)],
                tasks: [
                    Fx.task("one", group: "steps"), Fx.task("two", group: "steps"),
                    Fx.task("three", group: "steps"),
                ]))
        #expect(h.liveNames() == ["one"])
        h.exit("one")
        #expect(h.liveNames() == ["two"])
        h.exit("two")
        #expect(h.liveNames() == ["three"])
        h.exit("three")
        #expect(h.spawnOrder() == ["one", "two", "three"])
        #expect(h.runStatus() == .succeeded)
    }

    @Test func sequentialGroupUnderWaitallGoesOnAfterAFailure() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                groups: [GroupSpec(name: "steps", strategy: .sequential)],
                tasks: [
                    Fx.task("one", group: "steps"), Fx.task("two", group: "steps"),
                    Fx.task("three", group: "steps"),
                ]))
        h.exit("one", code: 1)
        #expect(h.liveNames() == ["two"])
        h.exit("two")
        #expect(h.liveNames() == ["three"])
        h.exit("three")
        #expect(h.status("one") == .failed)
        #expect(h.status("two") == .succeeded)
        #expect(h.status("three") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func sequentialGroupUnderWaitallSkipsOnlyExplicitDependents() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                groups: [GroupSpec(name: "steps", strategy: .sequential)],
                tasks: [
                    Fx.task("one", group: "steps"), Fx.task("two", group: "steps", after: ["one"]),
                    Fx.task("three", group: "steps"),
                ]))
        h.exit("one", code: 1)
        #expect(h.status("two") == .skipped)
        #expect(h.reason("two") == "upstream failed: one")
        #expect(h.liveNames() == ["three"])
    }

    @Test func sequentialTaskSkippedEarlyDoesNotLetTheNextOneOvertakeARunningOne() {
        // Regression: `two` was skipped (its upstream failed) while `one` still ran, and
        // releasing it started `three` next to `one`, out of the listed order.
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                groups: [GroupSpec(name: "steps", strategy: .sequential)],
                tasks: [
                    Fx.task("build"), Fx.task("one", group: "steps"),
                    Fx.task("two", group: "steps", after: ["build"]),
                    Fx.task("three", group: "steps"), Fx.task("four", group: "steps"),
                ]))
        #expect(h.liveNames() == ["build", "one"])
        h.exit("build", code: 1)
        #expect(h.status("two") == .skipped)
        #expect(h.reason("two") == "upstream failed: build")
        #expect(h.liveNames() == ["one"])
        h.exit("one")
        #expect(h.liveNames() == ["three"])
        h.exit("three")
        #expect(h.liveNames() == ["four"])
        h.exit("four")
        #expect(h.spawnOrder().filter { $0 != "build" } == ["one", "three", "four"])
        #expect(h.runStatus() == .failed)
    }

    @Test func sequentialGroupUnderWaitcurrentSkipsTheRest() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "steps", strategy: .sequential)],
                tasks: [
                    Fx.task("one", group: "steps"), Fx.task("two", group: "steps"),
                    Fx.task("three", group: "steps"),
                ]))
        h.exit("one", code: 1)
        #expect(h.liveNames() == [])
        #expect(h.status("two") == .skipped)
        #expect(h.status("three") == .skipped)
        #expect(h.runStatus() == .failed)
    }

    @Test func groupModeOverridesTheRunMode() {
        // The run is failfast, but the group's own mode is waitall.
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .failfast,
                groups: [GroupSpec(name: "lenient", mode: .waitall)],
                tasks: [
                    Fx.task("flaky", group: "lenient"), Fx.task("sibling", group: "lenient"),
                    Fx.task("outside"), Fx.task("after", after: ["flaky"]),
                ]))
        h.exit("flaky", code: 1)
        #expect(h.signals(of: "sibling").isEmpty)
        #expect(h.signals(of: "outside").isEmpty)
        #expect(h.status("after") == .skipped)
        #expect(h.reason("after") == "upstream failed: flaky")
        h.exit("sibling")
        h.exit("outside")
        #expect(h.status("sibling") == .succeeded)
        #expect(h.status("outside") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func failfastGroupModeOverridesAWaitallRun() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                groups: [GroupSpec(name: "strict", mode: .failfast)],
                tasks: [Fx.task("a", group: "strict"), Fx.task("other"), Fx.task("pending", after: ["other"])]))
        h.exit("a", code: 1)
        #expect(h.signals(of: "other") == [.terminate])
        #expect(h.status("pending") == .skipped)
    }
}
