import BatonCore
import BatonStorage
import Foundation

/// A fresh temporary data directory, removed when the test is done with it.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("baton-storage-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent(SQLiteRunStore.fileName).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs `body` with a store on a fresh database file, closing it afterwards.
func withStore(_ body: (SQLiteRunStore, borrowing TemporaryDirectory) throws -> Void) throws {
    let directory = try TemporaryDirectory()
    let store = try SQLiteRunStore(dataDirectory: directory.url)
    defer { try? store.close() }
    try body(store, directory)
}

/// A date with whole milliseconds, which round-trips exactly.
func date(_ secondsSince1970: Double) -> Date { Date(timeIntervalSince1970: secondsSince1970) }

let baseDate = date(1_795_000_000.123)

func sampleRun(
    id: String, name: String = "build", workflow: String? = nil, status: RunStatus = .queued,
    trigger: RunTrigger = .api, createdAt: Date = baseDate
) -> RunRecord {
    RunRecord(
        id: id, name: name, workflow: workflow, status: status, trigger: trigger, createdAt: createdAt,
        specJSON: Data(#"{"name":"\#(name)","tasks":[]}"#.utf8), specHash: "hash-\(name)")
}

func sampleTasks(_ count: Int) -> [TaskRecord] {
    (0..<count).map { TaskRecord(index: $0, name: "task-\($0)", group: $0 % 2 == 0 ? "even" : nil) }
}
