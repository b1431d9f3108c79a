import Testing

@testable import BatonCore
@testable import BatonRunner

/// Which spawns may start before the commit that records their attempt (see
/// `ExecutorLoop.spawnsMayPrecedeTheirCommit`): only attempts a crash in between could not
/// hurt. A process always starts later than the commit that follows it, so no test from
/// outside can tell the two orders apart: the policy is checked here, as a function.
@Suite struct SpawnCommitOrderTests {
    static func spawn(
        restartable: Bool = true, ssh: SSHTarget? = nil, workflow: SubWorkflow? = nil, hook: Bool = false
    ) -> EngineAction {
        .spawn(
            SpawnPlan(
                ref: TaskRef(runID: "r", task: 0), taskName: "t", attempt: 1, command: .argv(["true"]), env: [:],
                cwd: nil, logPath: "logs/r/0.1.log", isTimeoutHook: hook, ssh: ssh, subWorkflow: workflow,
                restartable: restartable))
    }

    static func mayPrecede(_ actions: [EngineAction], storeFailing: Bool = false, runsAreOurs: Bool = true) -> Bool {
        ExecutorLoop.spawnsMayPrecedeTheirCommit(actions, storeFailing: storeFailing, runsAreOurs: runsAreOurs)
    }

    @Test func restartableLocalProcessesStartFirst() {
        #expect(Self.mayPrecede([Self.spawn(), Self.spawn(), .signal(TaskRef(runID: "r", task: 1), .kill)]))
    }

    @Test func anyAttemptThatMustNotRunTwiceIsCommittedFirst() {
        #expect(!Self.mayPrecede([Self.spawn(), Self.spawn(restartable: false)]))
        #expect(!Self.mayPrecede([Self.spawn(ssh: SSHTarget(host: "example"))]))
        #expect(!Self.mayPrecede([Self.spawn(workflow: SubWorkflow(name: "w", spec: nil))]))
        #expect(!Self.mayPrecede([Self.spawn(hook: true)]))
    }

    @Test func aFailingStoreOrALeaseThatMayHaveLapsedCommitsFirst() {
        #expect(!Self.mayPrecede([Self.spawn()], storeFailing: true))
        #expect(!Self.mayPrecede([Self.spawn()], runsAreOurs: false))
    }

    @Test func aLeaseHoldsForItsSecondsFromBeforeTheHeartbeat() {
        let renewed = ContinuousClock.now
        let beat = ClusterBeat(slots: 2, leaseSeconds: 5, renewedAt: renewed)
        #expect(beat.holds(at: renewed))
        #expect(beat.holds(at: renewed + .milliseconds(4_999)))
        #expect(!beat.holds(at: renewed + .seconds(5)))
        #expect(!beat.holds(at: renewed + .seconds(60)))
    }
}
