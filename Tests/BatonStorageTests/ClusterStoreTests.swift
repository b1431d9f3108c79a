import BatonCore
import BatonStorage
import Foundation
import Synchronization
import Testing

/// The cluster protocol of the PostgreSQL store, with two stores as two nodes on one
/// database (the multi-process tests are Tests/Python/test_cluster.py). A lease of 0 seconds
/// makes a node that did not heartbeat this instant count as lost.
@Suite struct ClusterStoreTests {
    /// Two nodes, "a" and "b", registered on a fresh database.
    func withTwoNodes(_ body: (PostgresRunStore, PostgresRunStore) throws -> Void) throws {
        guard let server = try PostgresTestServer.url() else { return }
        let url = try PostgresRunStore.createScratchDatabase(serverURL: server)
        defer { PostgresRunStore.dropScratchDatabase(serverURL: server, url: url) }
        let a = try PostgresRunStore(url: url, nodeID: "a")
        defer { a.close() }
        let b = try PostgresRunStore(url: url, nodeID: "b")
        defer { b.close() }
        for store in [a, b] {
            try store.registerNode(ClusterNode(id: store.nodeID!, hostname: "h", labels: [:], slots: 2, version: "t"))
        }
        try body(a, b)
    }

    @Test func aNodeThatLostARunWritesNothingOfItAndIsTold() throws {
        try withTwoNodes { a, b in
            try a.insertRun(sampleRun(id: "r1", status: .running), tasks: sampleTasks(2))
            // b takes the run of a, silent past a lease of 0 s: a new generation.
            let adopted = try b.adoptLostRuns(leaseSeconds: 0)
            #expect(adopted.map(\.lostNode) == ["a"])
            #expect(adopted.flatMap(\.runs).map(\.id) == ["r1"])
            #expect(try a.lostRuns() == ["r1"])

            // a was frozen and writes its stale view: fenced, reported, nothing written.
            var stale = StoreBatch()
            stale.runs = [
                RunUpdate(
                    id: "r1", status: .failed, startedAt: baseDate, finishedAt: baseDate, cancelRequests: 0,
                    deadlineHit: false)
            ]
            var task = sampleTasks(1)[0]
            task.status = .failed
            stale.tasks = [("r1", task)]
            try a.apply(stale)
            #expect(a.takeFencedRuns() == ["r1"])
            #expect(a.takeFencedRuns().isEmpty, "taken once")
            #expect(try b.run(id: "r1")?.status == .running)
            #expect(try b.tasks(runID: "r1")[0].status == .pending)

            // The new owner's writes go through.
            var fresh = StoreBatch()
            task.status = .succeeded
            fresh.tasks = [("r1", task)]
            try b.apply(fresh)
            #expect(try b.tasks(runID: "r1")[0].status == .succeeded)
            #expect(try b.lostRuns().isEmpty)
        }
    }

    @Test func aLiveNodeKeepsItsRunsAndAStoppedOneHandsThemOverAtOnce() throws {
        try withTwoNodes { a, b in
            try a.insertRun(sampleRun(id: "r1"), tasks: [])
            _ = try a.heartbeat(busySlots: 1, watchers: 0, leaseSeconds: 10)
            #expect(try b.adoptLostRuns(leaseSeconds: 60).isEmpty)
            try a.markStopped()
            #expect(try b.adoptLostRuns(leaseSeconds: 60).flatMap(\.runs).map(\.id) == ["r1"])
            let states = try b.nodes(leaseSeconds: 60).map { "\($0.id) \($0.state.rawValue)" }
            #expect(states == ["a stopped", "b live"])
        }
    }

    @Test func aLeaseHasOneHolderUntilItExpires() throws {
        try withTwoNodes { a, b in
            #expect(try a.holdLease("cron", seconds: 0.3))
            #expect(try !b.holdLease("cron", seconds: 0.3))
            #expect(try a.holdLease("cron", seconds: 0.3), "the holder renews")
            Thread.sleep(forTimeInterval: 0.5)
            #expect(try b.holdLease("cron", seconds: 30), "expired: another node takes it")
            #expect(try !a.holdLease("cron", seconds: 30))
            try b.releaseLease("cron")
            #expect(try a.holdLease("cron", seconds: 30), "released: free at once")
        }
    }

    @Test func aCommandReachesTheOwnerOfTheRunOnly() throws {
        try withTwoNodes { a, b in
            try a.insertRun(sampleRun(id: "r1", status: .running), tasks: [])
            try a.insertRun(sampleRun(id: "done", status: .succeeded), tasks: [])
            #expect(try b.postCommand(RunCommand(runID: "r1", kind: .cancel)))
            #expect(try !b.postCommand(RunCommand(runID: "done", kind: .cancel)), "a finished run takes none")
            #expect(try !a.postCommand(RunCommand(runID: "r1", kind: .cancel)), "the owner acts itself")
            #expect(try !b.postCommand(RunCommand(runID: "ghost", kind: .cancel)))
            #expect(try b.takeCommands().isEmpty)
            #expect(try a.takeCommands() == [RunCommand(runID: "r1", kind: .cancel)])
            #expect(try a.takeCommands().isEmpty, "taken once")
        }
    }

    @Test func aNodeIsWokenByACommandForItsRun() throws {
        try withTwoNodes { a, b in
            try a.insertRun(sampleRun(id: "r1", status: .running), tasks: [])
            _ = a.waitForWakeUp(timeout: 0)  // opens the LISTEN connection
            #expect(try b.postCommand(RunCommand(runID: "r1", kind: .cancel)))
            let started = Date()
            var wakeUps: [String] = []
            while wakeUps.isEmpty && Date().timeIntervalSince(started) < 10 {
                wakeUps = a.waitForWakeUp(timeout: 1)
            }
            #expect(wakeUps == ["commands"])
        }
    }
}

extension ClusterStoreTests {
    @Test func eventsRelayedByOneNodeReachTheOtherInOrder() throws {
        try withTwoNodes { a, b in
            #expect(try !a.heartbeat(busySlots: 0, watchers: 0, leaseSeconds: 10), "nobody watches yet")
            #expect(try !b.heartbeat(busySlots: 0, watchers: 2, leaseSeconds: 10), "b's own watchers do not count")
            #expect(try a.heartbeat(busySlots: 0, watchers: 0, leaseSeconds: 10), "a learns that b has watchers")
            _ = b.waitForWakeUp(timeout: 0)  // opens the LISTEN connection
            let events = [
                ServerEvent(kind: .runCreated, runID: "r1", data: "{}"),
                ServerEvent(kind: .taskUpdated, runID: "r1", task: "big", data: String(repeating: "z", count: 10_000)),
                ServerEvent(kind: .runUpdated, runID: "r1", data: #"{"status":"succeeded"}"#),
            ]
            try a.relay(events)
            var received: [ServerEvent] = []
            let started = Date()
            while received.count < events.count && Date().timeIntervalSince(started) < 10 {
                if b.waitForWakeUp(timeout: 1).contains("events") { received += b.takeRelayedEvents() }
            }
            #expect(received == events)
            _ = a.waitForWakeUp(timeout: 0.2)
            #expect(a.takeRelayedEvents().isEmpty, "a node never receives its own events")
        }
    }

    @Test func aFirstWatcherIsAnnouncedToTheOtherNodes() throws {
        try withTwoNodes { a, b in
            _ = a.waitForWakeUp(timeout: 0)
            try b.announceWatching()
            var wakeUps: [String] = []
            let started = Date()
            while !wakeUps.contains("watching") && Date().timeIntervalSince(started) < 10 {
                wakeUps += a.waitForWakeUp(timeout: 1)
            }
            #expect(wakeUps.contains("watching"))
            #expect(try a.heartbeat(busySlots: 0, watchers: 0, leaseSeconds: 10), "the announcement is recorded")
        }
    }
}

extension ClusterStoreTests {
    static func dispatched(_ runID: String, task: Int) -> DispatchedAttempt {
        DispatchedAttempt(
            runID: runID, taskIndex: task, attempt: 1, taskName: "t\(task)", argv: ["true"], env: ["K": "v"],
            cwd: nil, logPath: "logs/\(runID)/t\(task)/1.log")
    }

    /// A round's attempt rows and their publication: one statement, both or neither.
    static func round(_ runID: String, tasks: [Int]) -> StoreBatch {
        var batch = StoreBatch()
        batch.attempts = tasks.map {
            AttemptRecord(
                runID: runID, taskIndex: $0, attempt: 1, startedAt: baseDate, logPath: "logs/\(runID)/t\($0)/1.log",
                queuedAt: baseDate)
        }
        return batch
    }

    @Test func aRoundIsWrittenAndPublishedInOneStatementForTheRunsTheNodeOwns() throws {
        try withTwoNodes { a, b in
            try a.insertRun(sampleRun(id: "r1", status: .running), tasks: sampleTasks(3))
            _ = b.waitForWakeUp(timeout: 0)  // opens b's LISTEN connection
            let published = try a.apply(
                Self.round("r1", tasks: [0, 1]),
                publishing: [Self.dispatched("r1", task: 0), Self.dispatched("r1", task: 1)])
            #expect(
                published == [
                    DispatchKey(runID: "r1", taskIndex: 0, attempt: 1),
                    DispatchKey(runID: "r1", taskIndex: 1, attempt: 1),
                ])
            #expect(try a.attempts(runID: "r1").map(\.taskIndex) == [0, 1], "the attempt rows are written too")
            #expect(a.takeFencedRuns().isEmpty)

            // The other node is woken and claims them, as after a publish of their own.
            let started = Date()
            var wakeUps: [String] = []
            while !wakeUps.contains("work") && Date().timeIntervalSince(started) < 10 {
                wakeUps = b.waitForWakeUp(timeout: 1)
            }
            #expect(wakeUps.contains("work"))
            let claimed = try b.claim(limit: 5)
            #expect(
                claimed.map(\.key).sorted { $0.taskIndex < $1.taskIndex }
                    == published.sorted { $0.taskIndex < $1.taskIndex })
            #expect(claimed.first?.env == ["K": "v"], "the request travels whole")

            // Publishing again is a no-op; a run that another node took over is neither
            // written nor published, and is reported fenced.
            #expect(try a.apply(StoreBatch(), publishing: [Self.dispatched("r1", task: 0)]).isEmpty)
            // A publish on its own (after a commit-first round) takes the same arguments.
            #expect(
                try a.publish([Self.dispatched("r1", task: 2)]) == [DispatchKey(runID: "r1", taskIndex: 2, attempt: 1)])
            #expect(try b.claim(limit: 5).map(\.taskName) == ["t2"])
            _ = try b.adoptLostRuns(leaseSeconds: 0)
            var retry = Self.dispatched("r1", task: 1)
            retry.attempt = 2
            #expect(try a.publish([retry]).isEmpty, "a lost run publishes nothing")
            let refused = try a.apply(Self.round("r1", tasks: [2]), publishing: [Self.dispatched("r1", task: 2)])
            #expect(refused.isEmpty)
            #expect(a.takeFencedRuns() == ["r1"])
            #expect(try b.attempts(runID: "r1").map(\.taskIndex) == [0, 1], "nothing of the stale round")
            #expect(try b.claim(limit: 5).isEmpty)
        }
    }
}
