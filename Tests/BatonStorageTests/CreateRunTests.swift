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
}
