import BatonCore
import BatonStorage
import Foundation
import Testing

@Suite("Applying engine batches")
struct ApplyBatchTests {
    @Test("run updates replace the mutable fields and keep the rest")
    func runUpdate() throws {
        try withStore { store, _ in
            let run = sampleRun(id: "r1", workflow: "wf", trigger: .manual)
            try store.insertRun(run, tasks: [])
            var batch = StoreBatch()
            batch.runs = [
                RunUpdate(
                    id: "r1", status: .cancelled, startedAt: date(1_795_000_001), finishedAt: date(1_795_000_002),
                    cancelRequests: 2, deadlineHit: true)
            ]
            try store.apply(batch)
            var expected = run
            expected.status = .cancelled
            expected.startedAt = date(1_795_000_001)
            expected.finishedAt = date(1_795_000_002)
            expected.cancelRequests = 2
            expected.deadlineHit = true
            #expect(try store.run(id: "r1") == expected)

            // Back to nil: an update writes every mutable field, nil included.
            batch.runs = [
                RunUpdate(
                    id: "r1", status: .queued, startedAt: nil, finishedAt: nil, cancelRequests: 0, deadlineHit: false)
            ]
            try store.apply(batch)
            #expect(try store.run(id: "r1") == run)
        }
    }

    @Test("task rows are upserted: existing ones replaced, new ones inserted")
    func taskUpsert() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(3))
            var running = TaskRecord(
                index: 1, name: "task-1", group: nil, status: .running, attempt: 1, startedAt: date(1_795_000_001),
                pgid: 777)
            let added = TaskRecord(
                index: 3, name: "task-3", group: "late", status: .skipped, reason: "upstream failed: x")
            var batch = StoreBatch()
            batch.tasks = [("r1", running), ("r1", added)]
            try store.apply(batch)
            var expected = sampleTasks(3) + [added]
            expected[1] = running
            #expect(try store.tasks(runID: "r1") == expected)

            // Replacing clears the fields that became nil.
            running.status = .succeeded
            running.pgid = nil
            running.exitCode = 0
            running.finishedAt = date(1_795_000_009)
            batch.tasks = [("r1", running)]
            try store.apply(batch)
            expected[1] = running
            #expect(try store.tasks(runID: "r1") == expected)
        }
    }

    @Test("attempt rows are upserted")
    func attemptUpsert() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(1))
            var attempt = AttemptRecord(
                runID: "r1", taskIndex: 0, attempt: 1, startedAt: date(1_795_000_001), logPath: "logs/r1/task-0/1.log")
            var batch = StoreBatch()
            batch.attempts = [attempt]
            try store.apply(batch)
            attempt.finishedAt = date(1_795_000_002)
            attempt.exitCode = 3
            attempt.status = .failed
            batch.attempts = [attempt]
            try store.apply(batch)
            #expect(try store.attempts(runID: "r1", taskIndex: 0) == [attempt])
        }
    }

    @Test("one batch touches several runs, tasks and attempts at once")
    func mixedBatch() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "a"), tasks: sampleTasks(2))
            try store.insertRun(sampleRun(id: "b"), tasks: sampleTasks(2))
            var batch = StoreBatch()
            batch.runs = [
                RunUpdate(
                    id: "a", status: .running, startedAt: baseDate, finishedAt: nil, cancelRequests: 0,
                    deadlineHit: false),
                RunUpdate(
                    id: "b", status: .running, startedAt: baseDate, finishedAt: nil, cancelRequests: 1,
                    deadlineHit: false),
            ]
            let aTask = TaskRecord(index: 0, name: "task-0", group: "even", status: .running, attempt: 1)
            let bTask = TaskRecord(index: 1, name: "task-1", group: nil, status: .running, attempt: 1)
            batch.tasks = [("a", aTask), ("b", bTask)]
            batch.attempts = [
                AttemptRecord(runID: "a", taskIndex: 0, attempt: 1, startedAt: baseDate, logPath: "a/0/1.log"),
                AttemptRecord(runID: "b", taskIndex: 1, attempt: 1, startedAt: baseDate, logPath: "b/1/1.log"),
            ]
            try store.apply(batch)
            #expect(try store.run(id: "a")?.status == .running)
            #expect(try store.run(id: "b")?.cancelRequests == 1)
            #expect(try store.tasks(runID: "a")[0] == aTask)
            #expect(try store.tasks(runID: "b")[1] == bTask)
            #expect(try store.attempts(runID: "b", taskIndex: 1).count == 1)
            #expect(try store.taskCounts(runID: "a") == [.running: 1, .pending: 1])
        }
    }

    @Test("a batch that fails half-way writes nothing")
    func batchIsAtomic() throws {
        try withStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(1))
            var batch = StoreBatch()
            batch.runs = [
                RunUpdate(
                    id: "r1", status: .running, startedAt: baseDate, finishedAt: nil, cancelRequests: 0,
                    deadlineHit: false)
            ]
            batch.tasks = [("r1", TaskRecord(index: 0, name: "task-0", group: "even", status: .running))]
            batch.attempts = [
                // Its task does not exist: the foreign key fails after the other rows were written.
                AttemptRecord(runID: "r1", taskIndex: 99, attempt: 1, startedAt: baseDate, logPath: "x")
            ]
            #expect(throws: (any Error).self) { try store.apply(batch) }
            #expect(try store.run(id: "r1")?.status == .queued)
            #expect(try store.tasks(runID: "r1") == sampleTasks(1))
        }
    }

    @Test("an update of an unknown run is refused")
    func unknownRun() throws {
        try withStore { store, _ in
            var batch = StoreBatch()
            batch.runs = [
                RunUpdate(
                    id: "ghost", status: .running, startedAt: nil, finishedAt: nil, cancelRequests: 0,
                    deadlineHit: false)
            ]
            #expect(throws: StorageError.unknownRun("ghost")) { try store.apply(batch) }
            batch = StoreBatch()
            batch.tasks = [("ghost", TaskRecord(index: 0, name: "t", group: nil))]
            #expect(throws: (any Error).self) { try store.apply(batch) }
            try store.apply(StoreBatch())  // empty: nothing to do
        }
    }
}
