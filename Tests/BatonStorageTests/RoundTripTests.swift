import BatonCore
import BatonStorage
import Foundation
import Testing

@Suite("Round trips of every field")
struct RoundTripTests {
    static let triggers: [RunTrigger] = [
        .api, .manual, .cron(scheduledAt: date(1_795_000_020)), .cron(scheduledAt: date(1_795_000_020.123)),
        .cron(scheduledAt: date(1_795_000_020.999)), .cron(scheduledAt: date(1_795_000_020.001)),
        .webhook(deliveryID: "d-1", event: "push"), .webhook(deliveryID: nil, event: nil),
        .webhook(deliveryID: nil, event: "push"), .retry(originalRunID: "r-original"),
    ]

    @Test("a run with every field set comes back equal", arguments: triggers)
    func runWithEveryField(trigger: RunTrigger) throws {
        try withStore { store, _ in
            let run = RunRecord(
                id: "r1", name: "nightly", workflow: "wf", status: .running, trigger: trigger,
                createdAt: baseDate, startedAt: date(1_795_000_001.5), finishedAt: date(1_795_000_099.999),
                specJSON: Data([0, 1, 2, 255, 0x7b]), specHash: "abc123", cancelRequests: 2, deadlineHit: true)
            try store.insertRun(run, tasks: [])
            #expect(try store.run(id: "r1") == run)
        }
    }

    @Test("nil fields stay nil and defaults round-trip")
    func runWithNilFields() throws {
        try withStore { store, _ in
            let run = sampleRun(id: "r1")
            try store.insertRun(run, tasks: [])
            let stored = try #require(try store.run(id: "r1"))
            #expect(stored == run)
            #expect(stored.workflow == nil && stored.startedAt == nil && stored.finishedAt == nil)
            #expect(try store.run(id: "missing") == nil)
        }
    }

    @Test("tasks with every field set, and with none, come back equal and in index order")
    func tasksEveryField() throws {
        try withStore { store, _ in
            let full = TaskRecord(
                index: 0, name: "compile", group: "build", status: .failed, attempt: 3, failures: 2,
                exitCode: -1, signal: 9, reason: "timeout after 300s", startedAt: date(1_795_000_002.25),
                finishedAt: date(1_795_000_003.001), pgid: 4242, retryAt: date(1_795_000_010.5))
            let empty = TaskRecord(index: 1, name: "test", group: nil)
            let statuses = TaskStatus.allCases.enumerated().map { offset, status in
                TaskRecord(index: 2 + offset, name: "s\(offset)", group: nil, status: status)
            }
            // Inserted out of order: reads are by index.
            let tasks = [empty, full] + statuses.reversed()
            try store.insertRun(sampleRun(id: "r1"), tasks: tasks)
            #expect(try store.tasks(runID: "r1") == [full, empty] + statuses)
            #expect(try store.tasks(runID: "unknown").isEmpty)
        }
    }

    @Test("attempts with every field set, and with none, come back equal")
    func attemptsEveryField() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(2))
            let first = AttemptRecord(
                runID: "r1", taskIndex: 1, attempt: 1, startedAt: date(1_795_000_004.004),
                finishedAt: date(1_795_000_005.5), exitCode: 1, signal: 15, status: .timedOut,
                logPath: "logs/r1/task-1/1.log")
            let second = AttemptRecord(
                runID: "r1", taskIndex: 1, attempt: 2, startedAt: date(1_795_000_006), logPath: "logs/r1/task-1/2.log")
            var batch = StoreBatch()
            batch.attempts = [second, first]
            try store.apply(batch)
            #expect(try store.attempts(runID: "r1", taskIndex: 1) == [first, second])
            #expect(try store.attempts(runID: "r1", taskIndex: 0).isEmpty)
        }
    }

    @Test("every run status round-trips")
    func everyRunStatus() throws {
        try withStore { store, _ in
            for (offset, status) in RunStatus.allCases.enumerated() {
                let run = sampleRun(id: "r\(offset)", status: status)
                try store.insertRun(run, tasks: [])
                #expect(try store.run(id: run.id) == run)
            }
        }
    }

    @Test("an arbitrary Date comes back within a microsecond")
    func arbitraryDatePrecision() throws {
        try withStore { store, _ in
            let now = Date()
            try store.insertRun(sampleRun(id: "r1", createdAt: now), tasks: [])
            let stored = try #require(try store.run(id: "r1"))
            #expect(abs(stored.createdAt.timeIntervalSince(now)) < 1e-6)
        }
    }

    @Test("inserting a run id twice is refused and writes nothing")
    func duplicateRun() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(2))
            #expect(throws: RunStoreError.duplicateRun("r1")) {
                try store.insertRun(sampleRun(id: "r1", name: "other"), tasks: sampleTasks(5))
            }
            #expect(try store.run(id: "r1")?.name == "build")
            #expect(try store.tasks(runID: "r1").count == 2)
        }
    }

    @Test("a failed insert leaves no run behind (one transaction)")
    func insertIsAtomic() throws {
        try withStore { store, _ in
            let clashing = [TaskRecord(index: 0, name: "a", group: nil), TaskRecord(index: 0, name: "b", group: nil)]
            #expect(throws: (any Error).self) {
                try store.insertRun(sampleRun(id: "r1"), tasks: clashing)
            }
            // (Values read before #expect: `try` inside it fails to compile in a closure
            // that holds another throwing closure, with Swift 6.3.)
            let run = try store.run(id: "r1")
            let tasks = try store.tasks(runID: "r1")
            #expect(run == nil)
            #expect(tasks.isEmpty)
        }
    }
}
