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

/// Every port a store implements.
typealias AnyStore = RunStore & WorkflowStore & NotificationStore & RunCreationStore

/// Runs `body` on every store: SQLite on a fresh database file, then PostgreSQL on a fresh
/// database when a test server is configured (see `PostgresTestServer`).
func withStore(_ body: (any AnyStore, borrowing TemporaryDirectory) throws -> Void) throws {
    try withSQLiteStore { store, directory in try body(store, directory) }
    try withPostgresStore { store, directory in
        do {
            try body(store, directory)
        } catch {
            throw OnPostgres(error: error)
        }
    }
}

/// Runs `body` with a SQLite store on a fresh database file, closing it afterwards.
func withSQLiteStore(_ body: (SQLiteRunStore, borrowing TemporaryDirectory) throws -> Void) throws {
    let directory = try TemporaryDirectory()
    let store = try SQLiteRunStore(dataDirectory: directory.url)
    defer { try? store.close() }
    try body(store, directory)
}

/// Runs `body` with a PostgreSQL store on a database of its own, dropped afterwards; does
/// nothing when no test server is configured.
func withPostgresStore(_ body: (PostgresRunStore, borrowing TemporaryDirectory) throws -> Void) throws {
    guard let server = try PostgresTestServer.url() else { return }
    let directory = try TemporaryDirectory()
    let url = try PostgresRunStore.createScratchDatabase(serverURL: server)
    defer { PostgresRunStore.dropScratchDatabase(serverURL: server, url: url) }
    let store = try PostgresRunStore(url: url)
    defer { store.close() }
    try body(store, directory)
}

/// A failure of the PostgreSQL pass of a test that runs on both stores.
struct OnPostgres: Error, CustomStringConvertible {
    var error: any Error
    var description: String { "on PostgreSQL: \(error)" }
}

/// The PostgreSQL server the tests may use: `BATON_TEST_POSTGRES_URL` (scripts/test.sh
/// starts one). With `BATON_REQUIRE_POSTGRES=1` (CI) its absence is a failure, not a skip.
enum PostgresTestServer {
    static func url() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["BATON_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        if environment["BATON_REQUIRE_POSTGRES"] == "1" { throw Missing() }
        return nil
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "BATON_REQUIRE_POSTGRES=1 but BATON_TEST_POSTGRES_URL is not set" }
    }
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
