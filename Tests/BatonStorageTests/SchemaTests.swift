import BatonCore
import BatonStorage
import Foundation
import Testing

@Suite("Schema, journal and durability")
struct SchemaTests {
    @Test("the data directory is created and holds baton.db in WAL mode")
    func walMode() throws {
        let parent = try TemporaryDirectory()
        let dataDirectory = parent.url.appendingPathComponent("nested/data", isDirectory: true)
        let store = try SQLiteRunStore(dataDirectory: dataDirectory)
        defer { try? store.close() }
        #expect(store.path == dataDirectory.appendingPathComponent("baton.db").path)
        #expect(FileManager.default.fileExists(atPath: store.path))
        #expect(try store.journalMode() == "wal")
        #expect(try store.fetchStringsForTesting(sql: "PRAGMA foreign_keys") == ["1"])
        // NORMAL is 1.
        #expect(try store.fetchStringsForTesting(sql: "PRAGMA synchronous") == ["1"])
    }

    @Test("migrations are recorded by name, and reopening applies none twice")
    func migrationsRecorded() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteRunStore(path: directory.databasePath)
        let applied = try store.schemaVersion()
        #expect(applied.first == "v1 runs, tasks, attempts")
        try store.close()
        let reopened = try SQLiteRunStore(path: directory.databasePath)
        defer { try? reopened.close() }
        #expect(try reopened.schemaVersion() == applied)
        #expect(
            try reopened.fetchStringsForTesting(sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                == applied.sorted())
    }

    @Test("a database migrated by a newer Baton is refused and left intact")
    func newerSchemaRefused() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteRunStore(path: directory.databasePath)
        try store.insertRun(sampleRun(id: "keep-me"), tasks: sampleTasks(3))
        try store.executeForTesting(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')")
        try store.close()

        #expect(throws: RunStoreError.newerSchema(found: "v99 from the future")) {
            _ = try SQLiteRunStore(path: directory.databasePath)
        }
        // Twice, and through the data-directory initializer too: nothing was wiped.
        #expect(throws: RunStoreError.newerSchema(found: "v99 from the future")) {
            _ = try SQLiteRunStore(dataDirectory: directory.url)
        }
        let path = directory.databasePath
        #expect(try SQLiteRunStore.fetchStringsForTesting(path: path, sql: "SELECT id FROM runs") == ["keep-me"])
        #expect(try SQLiteRunStore.fetchStringsForTesting(path: path, sql: "SELECT COUNT(*) FROM tasks") == ["3"])
    }

    @Test("a reopened store sees everything that was written")
    func reopenSeesData() throws {
        let directory = try TemporaryDirectory()
        let run = sampleRun(id: "r1", workflow: "wf", trigger: .cron(scheduledAt: date(1_795_000_060)))
        var task = TaskRecord(index: 0, name: "only", group: nil)
        let attempt = AttemptRecord(
            runID: "r1", taskIndex: 0, attempt: 1, startedAt: baseDate, logPath: "logs/r1/only/1.log")
        do {
            let store = try SQLiteRunStore(dataDirectory: directory.url)
            try store.insertRun(run, tasks: [task])
            task.status = .running
            task.attempt = 1
            task.pgid = 1234
            var batch = StoreBatch()
            batch.tasks = [("r1", task)]
            batch.attempts = [attempt]
            try store.apply(batch)
            // Dropped without close(): what was committed is all there is.
        }
        let reopened = try SQLiteRunStore(dataDirectory: directory.url)
        defer { try? reopened.close() }
        #expect(try reopened.run(id: "r1") == run)
        #expect(try reopened.tasks(runID: "r1") == [task])
        #expect(try reopened.attempts(runID: "r1", taskIndex: 0) == [attempt])
        #expect(try reopened.unfinishedRuns() == [run])
    }

    @Test("a closed store throws instead of crashing")
    func closedStore() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteRunStore(dataDirectory: directory.url)
        try store.insertRun(sampleRun(id: "r1"), tasks: [])
        try store.close()
        #expect(throws: (any Error).self) { try store.run(id: "r1") }
        #expect(throws: (any Error).self) { try store.insertRun(sampleRun(id: "r2"), tasks: []) }
    }

    @Test("a second store on the same file sees each commit at once")
    func secondConnectionSeesCommits() throws {
        let directory = try TemporaryDirectory()
        let writer = try SQLiteRunStore(path: directory.databasePath)
        let other = try SQLiteRunStore(path: directory.databasePath)
        defer {
            try? writer.close()
            try? other.close()
        }
        try writer.insertRun(sampleRun(id: "r1"), tasks: sampleTasks(2))
        #expect(try other.run(id: "r1") != nil)
        #expect(try other.tasks(runID: "r1").count == 2)
    }
}
