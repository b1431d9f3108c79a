import Foundation
import Testing

@testable import BatonCore

private typealias Fx = EngineFixture

/// SPEC §2 dependencies: `all_success`, `all_done`, skips that cascade.
@Suite struct EngineDependencyTests {
    @Test func allSuccessTaskStartsOnlyWhenEveryDependencySucceeded() {
        var h = EngineHarness()
        h.add(WorkflowSpec(tasks: [Fx.task("a"), Fx.task("b"), Fx.task("c", after: ["a", "b"])]))
        #expect(h.liveNames() == ["a", "b"])
        #expect(h.status("c") == .pending)
        h.exit("a")
        #expect(h.liveNames() == ["b"])
        #expect(h.status("c") == .pending)
        h.exit("b")
        #expect(h.liveNames() == ["c"])
        h.exit("c")
        #expect(h.runStatus() == .succeeded)
        #expect(h.finished["r1"] == .succeeded)
        #expect(h.spawnOrder() == ["a", "b", "c"])
    }

    @Test func allSuccessDependentIsSkippedNamingTheFailedTask() {
        var h = EngineHarness()
        h.add(WorkflowSpec(mode: .waitall, tasks: [Fx.task("build"), Fx.task("test", after: ["build"])]))
        h.exit("build", code: 2)
        #expect(h.status("build") == .failed)
        #expect(h.reason("build") == "exit code 2")
        #expect(h.record("build")?.exitCode == 2)
        #expect(h.status("test") == .skipped)
        #expect(h.reason("test") == "upstream failed: build")
        #expect(h.spawns(of: "test").isEmpty)
        #expect(h.runStatus() == .failed)
    }

    @Test func allDoneDependentRunsAfterAFailedDependency() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [
                    Fx.task("a"), Fx.task("b"),
                    Fx.task("report", after: ["a", "b"], trigger: .allDone),
                ]))
        h.exit("a", code: 1)
        #expect(h.status("report") == .pending)
        #expect(!h.isLive("report"))
        h.exit("b")
        #expect(h.isLive("report"))
        h.exit("report")
        #expect(h.status("report") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func allDoneDependentRunsAfterASkippedDependency() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [
                    Fx.task("a"), Fx.task("b", after: ["a"]),
                    Fx.task("cleanup", after: ["b"], trigger: .allDone),
                ]))
        h.exit("a", code: 1)
        #expect(h.status("b") == .skipped)
        #expect(h.isLive("cleanup"))
        h.exit("cleanup")
        #expect(h.status("cleanup") == .succeeded)
        #expect(h.runStatus() == .failed)
    }

    @Test func skipsCascadeThroughAChainNamingTheRootFailure() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                mode: .waitall,
                tasks: [
                    Fx.task("a"), Fx.task("b", after: ["a"]), Fx.task("c", after: ["b"]),
                    Fx.task("d", after: ["c", "x"]), Fx.task("x"),
                ]))
        h.exit("a", code: 1)
        for name in ["b", "c", "d"] {
            #expect(h.status(name) == .skipped, "\(name)")
            #expect(h.reason(name) == "upstream failed: a", "\(name)")
        }
        #expect(h.isLive("x"))
        h.exit("x")
        #expect(h.status("x") == .succeeded)
        #expect(h.runStatus() == .failed)
        #expect(h.finished["r1"] == .failed)
    }

    @Test func diamondDependentStartsOnceAfterBothBranches() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(tasks: [
                Fx.task("root"), Fx.task("left", after: ["root"]), Fx.task("right", after: ["root"]),
                // A repeated dependency counts once.
                Fx.task("join", after: ["left", "right", "left"]),
            ]))
        h.exit("root")
        #expect(h.liveNames() == ["left", "right"])
        h.exit("right")
        #expect(!h.isLive("join"))
        h.exit("left")
        #expect(h.isLive("join"))
        h.exit("join")
        #expect(h.spawns(of: "join").count == 1)
        #expect(h.runStatus() == .succeeded)
    }

    @Test func ungroupedTasksFollowTheirDependenciesAlone() {
        var h = EngineHarness()
        h.add(
            WorkflowSpec(
                groups: [GroupSpec(name: "first"), GroupSpec(name: "second")],
                tasks: [
                    Fx.task("slow", group: "first"), Fx.task("later", group: "second"),
                    Fx.task("free"), Fx.task("afterSlow", after: ["slow"]),
                ]))
        // `free` ignores the group order; `afterSlow` only waits for `slow`.
        #expect(h.liveNames() == ["free", "slow"])
        h.exit("slow")
        #expect(h.liveNames() == ["afterSlow", "free", "later"])
    }
}
