import BatonCore
import BatonStorage
import Foundation
import Testing

/// SPEC §3: "A 201 answer means the run is on disk: it survives kill -9 of the server."
/// The test binary runs itself again as a child that writes and then SIGKILLs itself
/// without closing the store; the parent then reopens the database.
@Suite("Durability against kill -9")
struct KillNineTests {
    static let directoryVariable = "BATON_STORAGE_KILL_NINE_DIR"

    @Test("what a returned write committed survives SIGKILL of the process")
    func committedWritesSurviveKillNine() throws {
        let directory = try TemporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "killNineChild"]
        child.environment = ProcessInfo.processInfo.environment.merging(
            [Self.directoryVariable: directory.url.path]) { _, new in new }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let deadline = Date().addingTimeInterval(60)
        while child.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if child.isRunning { child.terminate() }
        child.waitUntilExit()
        #expect(
            child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL,
            "the child did not die of SIGKILL: \(child.terminationReason) \(child.terminationStatus)")

        let store = try SQLiteRunStore(dataDirectory: directory.url)
        defer { try? store.close() }
        let run = try store.run(id: "survivor")
        let tasks = try store.tasks(runID: "survivor")
        #expect(run?.status == .running)
        #expect(tasks.count == 1000)
        #expect(tasks.first?.status == .running && tasks.first?.pgid == 4321)
    }

    /// The child's part; runs only when started by the test above.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[directoryVariable] != nil))
    func killNineChild() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.directoryVariable])
        let store = try SQLiteRunStore(dataDirectory: URL(fileURLWithPath: path))
        try store.insertRun(sampleRun(id: "survivor"), tasks: sampleTasks(1000))
        var batch = StoreBatch()
        batch.runs = [
            RunUpdate(
                id: "survivor", status: .running, startedAt: baseDate, finishedAt: nil, cancelRequests: 0,
                deadlineHit: false)
        ]
        batch.tasks = [
            ("survivor", TaskRecord(index: 0, name: "task-0", group: "even", status: .running, attempt: 1, pgid: 4321))
        ]
        try store.apply(batch)
        kill(getpid(), SIGKILL)
    }
}
