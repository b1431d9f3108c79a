import BatonCore
import BatonStorage
import Dispatch
import Foundation
import Testing

@Suite("Reads and writes from many threads")
struct ConcurrencyTests {
    @Test("reads complete while a write transaction is open, and see the last commit")
    func readDuringWrite() throws {
        try withSQLiteStore { store, _ in
            try store.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(3))
            let writeOpen = DispatchSemaphore(value: 0)
            let finishWrite = DispatchSemaphore(value: 0)
            let writeDone = DispatchSemaphore(value: 0)
            let writeError = LockedBox<(any Error)?>(nil)
            DispatchQueue.global().async {
                do {
                    try store.withWriteInProgressForTesting(sql: "UPDATE runs SET status = 'failed' WHERE id = 'r1'") {
                        writeOpen.signal()
                        // Bounded: the test fails rather than hangs if the reads block.
                        _ = finishWrite.wait(timeout: .now() + 30)
                    }
                } catch {
                    writeError.value = error
                }
                writeDone.signal()
            }
            try #require(writeOpen.wait(timeout: .now() + 10) == .success, "the write never started")
            // The write holds the writer connection; reads go on, on their snapshot.
            #expect(try store.run(id: "r1")?.status == .queued)
            #expect(try store.tasks(runID: "r1").count == 3)
            #expect(try store.listRuns(RunQuery()).runs.map(\.status) == [.queued])
            #expect(try store.unfinishedRuns().map(\.id) == ["r1"])
            finishWrite.signal()
            try #require(writeDone.wait(timeout: .now() + 30) == .success, "the write never finished")
            #expect(writeError.value == nil)
            #expect(try store.run(id: "r1")?.status == .failed)
        }
    }

    @Test("many threads reading while one writes: no error, no torn batch")
    func readersAndWriter() throws {
        try withStore { store, _ in
            let runCount = 40
            let tasksPerRun = 50
            let failures = LockedBox<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 5) { worker in
                do {
                    if worker == 0 {
                        for number in 0..<runCount {
                            let id = "run-\(number)"
                            try store.insertRun(sampleRun(id: id), tasks: sampleTasks(tasksPerRun))
                            // Finish every task and the run in one batch.
                            var batch = StoreBatch()
                            batch.runs = [
                                RunUpdate(
                                    id: id, status: .succeeded, startedAt: baseDate, finishedAt: baseDate,
                                    cancelRequests: 0, deadlineHit: false)
                            ]
                            batch.tasks = sampleTasks(tasksPerRun).map { task in
                                var task = task
                                task.status = .succeeded
                                return (id, task)
                            }
                            try store.apply(batch)
                        }
                    } else {
                        for _ in 0..<60 {
                            let page = try store.listRuns(RunQuery(limit: 10))
                            for run in page.runs {
                                // A run and its tasks are read in two snapshots, so only check
                                // what one snapshot guarantees: a batch lands whole.
                                let counts = try store.taskCounts(runID: run.id)
                                if counts.values.reduce(0, +) != tasksPerRun || counts.count != 1 {
                                    failures.withLock { $0.append("\(run.id): torn batch \(counts)") }
                                }
                            }
                            _ = try store.unfinishedRuns()
                        }
                    }
                } catch {
                    failures.withLock { $0.append("worker \(worker): \(error)") }
                }
            }
            #expect(failures.value == [])
            let succeeded = try store.listRuns(RunQuery(status: .succeeded, limit: 1000)).runs
            #expect(succeeded.count == runCount)
        }
    }
}

/// A value shared between test threads, guarded by a lock.
final class LockedBox<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched with `lock` held.
    private let lock = NSLock()
    private var _value: Value

    init(_ value: Value) { _value = value }

    var value: Value {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }

    func withLock(_ body: (inout Value) -> Void) { lock.withLock { body(&_value) } }
}
