import BatonCore
import BatonStorage
import Foundation
import Testing

@Suite("Large runs")
struct BulkInsertTests {
    @Test("a 100,000-task run inserts in one transaction, quickly, and reads back")
    func hundredThousandTasks() throws {
        try withStore { store, _ in
            let tasks = (0..<100_000).map { index in
                TaskRecord(index: index, name: "task-\(index)", group: index % 10 == 0 ? "g\(index % 7)" : nil)
            }
            let clock = ContinuousClock()
            let insert = try clock.measure { try store.insertRun(sampleRun(id: "big"), tasks: tasks) }
            var read: [TaskRecord] = []
            let readTime = try clock.measure { read = try store.tasks(runID: "big") }
            print("100,000 tasks: insert \(insert), read \(readTime)")
            // Not a benchmark (bench/ measures speed): a bound that only a per-row transaction
            // or a quadratic insert would exceed, even in a debug build with the whole suite
            // sharing 2 cores (seen: 1-15 s).
            #expect(insert < .seconds(60), "inserting 100,000 tasks took \(insert)")
            #expect(read == tasks)
            var counts: [TaskStatus: Int] = [:]
            let countTime = try clock.measure { counts = try store.taskCounts(runID: "big") }
            print("100,000 tasks: count by status \(countTime)")
            #expect(counts == [.pending: 100_000])

            // Finishing all of them is one batch too.
            var batch = StoreBatch()
            batch.tasks = tasks.map { task in
                var task = task
                task.status = .succeeded
                task.attempt = 1
                return ("big", task)
            }
            let apply = try clock.measure { try store.apply(batch) }
            print("100,000 tasks: apply \(apply)")
            #expect(apply < .seconds(60), "upserting 100,000 tasks took \(apply)")
            #expect(try store.taskCounts(runID: "big") == [.succeeded: 100_000])
        }
    }
}
