import BatonCore
import BatonStorage
import Foundation
import Testing

/// A new run's rows (run, tasks, notification queue, run key) are one transaction: a
/// failure or a crash part-way leaves none of them, never a run without its notifications.
@Suite struct CreateRunTests {
    func rows(_ id: String, notifyFor runID: String? = nil, key: String? = nil) -> NewRunRows {
        NewRunRows(
            record: sampleRun(id: id),
            tasks: [TaskRecord(index: 0, name: "a", group: nil)],
            notifications: [
                NotificationRecord(runID: runID ?? id, index: 0, url: "http://127.0.0.1:9/x", secret: nil, body: Data())
            ],
            key: key)
    }

    @Test func theRunItsTasksAndItsNotificationsArriveTogether() throws {
        try withStore { store, _ throws in
            #expect(try store.createRun(rows("run-1")) == .inserted)
            #expect(try store.run(id: "run-1") != nil)
            #expect(try store.tasks(runID: "run-1").count == 1)
            #expect(try store.notifications(runID: "run-1").count == 1)
        }
    }

    @Test func aFailingNotificationRowLeavesNoRunBehind() throws {
        try withStore { store, _ throws in
            // A queue row that cannot be written (it names no existing run) fails the whole
            // creation: the run must not exist without it.
            #expect(throws: (any Error).self) { try store.createRun(rows("run-2", notifyFor: "no-such-run")) }
            #expect(try store.run(id: "run-2") == nil)
            #expect(try store.tasks(runID: "run-2").isEmpty)
        }
    }

    @Test func aTakenKeyWritesNothing() throws {
        try withStore { store, _ throws in
            #expect(try store.createRun(rows("run-3", key: "cron:w:1")) == .inserted)
            #expect(try store.createRun(rows("run-4", key: "cron:w:1")) == .duplicate(existingRunID: "run-3"))
            #expect(try store.run(id: "run-4") == nil)
            #expect(try store.notifications(runID: "run-4").isEmpty)
        }
    }

    /// A cron tick writes its fires in one transaction: taken keys (stored before, or
    /// earlier in the same batch) are skipped one by one, the rest are written.
    @Test func aBatchSkipsTakenKeysAndWritesTheRest() throws {
        try withStore { store, _ throws in
            #expect(try store.createRun(rows("run-5", key: "cron:a:1")) == .inserted)
            let results = try store.createRuns([
                rows("run-6", key: "cron:a:1"), rows("run-7", key: "cron:b:1"), rows("run-8", key: "cron:b:1"),
                rows("run-9"),
            ])
            #expect(
                results == [
                    .duplicate(existingRunID: "run-5"), .inserted, .duplicate(existingRunID: "run-7"), .inserted,
                ])
            for id in ["run-7", "run-9"] { #expect(try store.tasks(runID: id).count == 1) }
            for id in ["run-6", "run-8"] { #expect(try store.run(id: id) == nil) }
        }
    }

    @Test func aFailingRowInABatchWritesNoneOfIt() throws {
        try withStore { store, _ throws in
            #expect(throws: (any Error).self) {
                try store.createRuns([rows("run-10"), rows("run-11", notifyFor: "no-such-run")])
            }
            #expect(try store.run(id: "run-10") == nil, "one transaction: all or nothing")
        }
    }
}
