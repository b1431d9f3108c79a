import BatonCore
import BatonStorage
import Foundation
import Testing

/// `WorkflowStore` on SQLite (SPEC §4): upserts keep what a replace must not lose, keyed
/// runs are unique, and the cron watermark only moves forward.
@Suite struct WorkflowStoreTests {
    private func workflow(
        _ name: String = "nightly", cron: String? = "0 3 * * *", secret: String? = nil, created: Date = baseDate,
        updated: Date? = nil
    ) throws -> WorkflowRecord {
        WorkflowRecord(
            name: name, specJSON: Data(#"{"name":"\#(name)","tasks":[]}"#.utf8),
            schedule: try cron.map {
                Schedule(cron: try CronExpression.parse($0), timezone: "Europe/Paris", overlap: .queue, missed: .skip)
            },
            webhookSecret: secret, createdAt: created, updatedAt: updated ?? created)
    }

    @Test func upsertCreatesThenReplacesKeepingCreationWatermarkAndLastRun() throws {
        try withStore { store, _ in
            #expect(try store.upsertWorkflow(try workflow(secret: "one")))
            let run = sampleRun(id: "r1", workflow: "nightly", trigger: .cron(scheduledAt: date(1_795_000_100)))
            #expect(
                try store.insertKeyedRun(
                    run, tasks: sampleTasks(1), key: "cron:nightly:1", firedAt: date(1_795_000_100)) == .inserted)

            let replacement = try workflow(
                cron: "*/5 * * * *", secret: nil, created: date(1_795_009_000), updated: date(1_795_009_000))
            #expect(try store.upsertWorkflow(replacement) == false)
            let stored = try #require(try store.workflow(name: "nightly"))
            #expect(stored.createdAt == baseDate, "creation time kept")
            #expect(stored.updatedAt == date(1_795_009_000))
            #expect(stored.lastFiredAt == date(1_795_000_100), "watermark kept")
            #expect(stored.lastRunID == "r1", "last run kept")
            #expect(stored.schedule?.cron.source == "*/5 * * * *")
            #expect(stored.schedule?.timezone == "Europe/Paris")
            #expect(stored.schedule?.overlap == .queue && stored.schedule?.missed == .skip)
            #expect(stored.webhookSecret == nil)
        }
    }

    @Test func listDeletePauseAndResume() throws {
        try withStore { store, _ in
            for name in ["b", "a", "c"] { _ = try store.upsertWorkflow(try workflow(name)) }
            #expect(try store.workflows().map(\.name) == ["a", "b", "c"])
            let paused = try #require(try store.setPaused(name: "b", paused: true))
            #expect(paused.paused)
            #expect(paused.updatedAt > baseDate)
            #expect(try store.setPaused(name: "zz", paused: true) == nil)
            #expect(try store.deleteWorkflow(name: "b"))
            #expect(try store.deleteWorkflow(name: "b") == false)
            #expect(try store.workflows().map(\.name) == ["a", "c"])
        }
    }

    @Test func aDuplicateKeyReportsTheExistingRunAndInsertsNothing() throws {
        try withStore { store, _ in
            _ = try store.upsertWorkflow(try workflow())
            let instant = date(1_795_000_200)
            let key = CronPlanner.runKey(workflow: "nightly", instant: instant)
            let first = sampleRun(id: "first", workflow: "nightly", trigger: .cron(scheduledAt: instant))
            let second = sampleRun(id: "second", workflow: "nightly", trigger: .cron(scheduledAt: instant))
            #expect(try store.insertKeyedRun(first, tasks: sampleTasks(2), key: key, firedAt: instant) == .inserted)
            #expect(
                try store.insertKeyedRun(second, tasks: sampleTasks(2), key: key, firedAt: instant)
                    == .duplicate(existingRunID: "first"))
            #expect(try store.run(id: "second") == nil)
            #expect(try store.listRuns(RunQuery(workflow: "nightly")).runs.map(\.id) == ["first"])
            #expect(try store.workflow(name: "nightly")?.lastRunID == "first")
        }
    }

    @Test func theWatermarkOnlyMovesForward() throws {
        try withStore { store, _ in
            _ = try store.upsertWorkflow(try workflow())
            try store.markFired(name: "nightly", at: date(1_795_000_300))
            try store.markFired(name: "nightly", at: date(1_795_000_100))
            #expect(try store.workflow(name: "nightly")?.lastFiredAt == date(1_795_000_300))
            // An older keyed run (a queued fire started late) does not move it back either.
            let old = sampleRun(id: "old", workflow: "nightly", trigger: .cron(scheduledAt: date(1_795_000_200)))
            _ = try store.insertKeyedRun(old, tasks: [], key: "cron:nightly:old", firedAt: date(1_795_000_200))
            let stored = try #require(try store.workflow(name: "nightly"))
            #expect(stored.lastFiredAt == date(1_795_000_300))
            #expect(stored.lastRunID == "old")
            // A keyed run without an instant (manual, webhook) leaves it alone.
            _ = try store.insertKeyedRun(
                sampleRun(id: "manual", workflow: "nightly"), tasks: [], key: "manual:x", firedAt: nil)
            #expect(try store.workflow(name: "nightly")?.lastFiredAt == date(1_795_000_300))
            try store.markFired(name: "nightly", at: date(1_795_000_400))
            #expect(try store.workflow(name: "nightly")?.lastFiredAt == date(1_795_000_400))
        }
    }

    @Test func theWatermarkSurvivesReopening() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try SQLiteRunStore(dataDirectory: directory.url)
            _ = try store.upsertWorkflow(try workflow(secret: "s"))
            let instant = date(1_795_000_500)
            let run = sampleRun(id: "r", workflow: "nightly", trigger: .cron(scheduledAt: instant))
            _ = try store.insertKeyedRun(
                run, tasks: [], key: CronPlanner.runKey(workflow: "nightly", instant: instant), firedAt: instant)
            try store.close()
        }
        let reopened = try SQLiteRunStore(dataDirectory: directory.url)
        defer { try? reopened.close() }
        let stored = try #require(try reopened.workflow(name: "nightly"))
        #expect(stored.lastFiredAt == date(1_795_000_500))
        #expect(stored.webhookSecret == "s")
        let again = sampleRun(id: "again", workflow: "nightly")
        #expect(
            try reopened.insertKeyedRun(
                again, tasks: [], key: CronPlanner.runKey(workflow: "nightly", instant: date(1_795_000_500)),
                firedAt: date(1_795_000_500)) == .duplicate(existingRunID: "r"))
    }
}
