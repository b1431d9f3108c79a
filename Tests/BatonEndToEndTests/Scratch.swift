import Foundation
import Glibc
import Synchronization

/// One test's world: a fresh directory (spec files, data dir, files the tasks write) and a
/// tag put in the environment of every `baton` the test starts. Every task inherits the
/// tag, so `cleanUp()` can find and SIGKILL whatever is left of this test — Baton itself,
/// its tasks, their orphans — whether the test passed or failed, without touching the
/// processes of tests running in parallel.
///
/// Use: `let scratch = try Scratch(); defer { scratch.cleanUp() }`.
final class Scratch: Sendable {
    /// The environment variable carrying the tag.
    static let tagVariable = "BATON_E2E_TAG"

    let directory: URL
    let tag: String
    private let started = Mutex<[BatonProcess]>([])

    init() throws {
        directory = try TestSupport.makeTemporaryDirectory()
        tag = UUID().uuidString
    }

    /// The path of `name` inside the scratch directory.
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The data directory handed to `baton run --data-dir`.
    var dataDirectory: String { path("data") }

    /// The run database in the data directory.
    var database: String { path("data/baton.db") }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Writes a native spec built from a JSON object; `env.DIR` is set to the scratch
    /// directory so commands can say `"$DIR/file"`.
    @discardableResult
    func writeSpec(_ spec: [String: Any], name: String = "spec.json") throws -> String {
        var spec = spec
        var env = spec["env"] as? [String: String] ?? [:]
        env["DIR"] = env["DIR"] ?? directory.path
        spec["env"] = env
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        return try write(name, String(decoding: data, as: UTF8.self))
    }

    /// The contents of `name`, or nil when it does not exist (yet).
    func read(_ name: String) -> String? {
        try? String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// The non-empty lines of `name` (none when it does not exist).
    func lines(_ name: String) -> [String] {
        (read(name) ?? "").split(separator: "\n").map(String.init)
    }

    func track(_ process: BatonProcess) {
        started.withLock { $0.append(process) }
    }

    /// Kills every process of this test (Baton and anything carrying the tag), then removes
    /// the directory. Safe to call more than once.
    func cleanUp() {
        for process in started.withLock({ $0 }) { process.killAndReap() }
        // Tasks and their orphans: SIGKILL until none is left (a dying parent can fork).
        for _ in 0..<50 {
            let left = ProcessTable.pids(carrying: Scratch.tagVariable, value: tag)
            if left.isEmpty { break }
            for pid in left { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
