import Foundation
import Glibc

/// Finds task processes by the marks every task carries in its environment
/// (`BATON_RUN_ID`, `BATON_TASK`, `BATON_ATTEMPT`, inherited by all its descendants), so
/// Baton kills what belongs to a task and nothing else: not a stranger that reuses a
/// recorded process id after a restart, and also not only the task's process group (a
/// `setsid` daemon leaves the group, not the environment).
///
/// Limits: a descendant that clears or rewrites its environment (`env -i`) is not
/// recognised by its marks; one that leaves the group too is only caught as an orphan of
/// the server (see ``orphans()``).
public enum ProcessScan {
    /// The marks of one process.
    public struct Marks: Sendable, Equatable, Hashable {
        public var runID: String
        public var task: String
        public var attempt: Int

        public init(runID: String, task: String, attempt: Int) {
            self.runID = runID
            self.task = task
            self.attempt = attempt
        }
    }

    /// The marks in `/proc/PID/environ`, nil when unreadable or absent.
    public static func marks(of pid: Int32) -> Marks? {
        guard let environment = read("/proc/\(pid)/environ", limit: 1 << 20) else { return nil }
        var runID: String?
        var task: String?
        var attempt: Int?
        for entry in environment.split(separator: 0) {
            if entry.starts(with: runPrefix) {
                runID = String(decoding: entry.dropFirst(runPrefix.count), as: UTF8.self)
            } else if entry.starts(with: taskPrefix) {
                task = String(decoding: entry.dropFirst(taskPrefix.count), as: UTF8.self)
            } else if entry.starts(with: attemptPrefix) {
                attempt = Int(String(decoding: entry.dropFirst(attemptPrefix.count), as: UTF8.self))
            }
        }
        guard let runID, let task else { return nil }
        return Marks(runID: runID, task: task, attempt: attempt ?? 0)
    }

    /// SIGKILLs every process (other than this one) marked with one of `runIDs`: what a
    /// server killed with -9 left of its unfinished runs. Returns how many were killed.
    @discardableResult
    public static func killProcesses(ofRuns runIDs: Set<String>) -> Int {
        guard !runIDs.isEmpty else { return 0 }
        return killProcesses { runIDs.contains($0.runID) }
    }

    /// SIGKILLs every process (other than this one) marked as one of `attempts`: what a
    /// lost node (frozen, cut off) still runs on this machine of attempts given up on.
    @discardableResult
    public static func killProcesses(ofAttempts attempts: Set<Marks>) -> Int {
        guard !attempts.isEmpty else { return 0 }
        return killProcesses { attempts.contains($0) }
    }

    private static func killProcesses(where matches: (Marks) -> Bool) -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        let me = getpid()
        var killed = 0
        for entry in entries {
            guard let pid = Int32(entry), pid > 1, pid != me else { continue }
            guard let marks = marks(of: pid), matches(marks) else { continue }
            if kill(pid, SIGKILL) == 0 { killed += 1 }
        }
        return killed
    }

    /// The children of this process (every thread's `children` list): with
    /// `PR_SET_CHILD_SUBREAPER`, orphaned task descendants land here.
    static func children() -> [Int32] {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return [] }
        var result: [Int32] = []
        for thread in threads {
            guard let text = read("/proc/self/task/\(thread)/children", limit: 1 << 20) else { continue }
            for field in text.split(separator: UInt8(ascii: " ")) {
                if let pid = Int32(String(decoding: field, as: UTF8.self)) { result.append(pid) }
            }
        }
        return result
    }

    /// The state letter and process group of `pid` from `/proc/PID/stat`.
    static func state(of pid: Int32) -> (state: Character, group: Int32)? {
        guard let bytes = read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let group = Int32(fields[2]) else { return nil }
        return (state, group)
    }

    static let runPrefix = Array("BATON_RUN_ID=".utf8)
    static let taskPrefix = Array("BATON_TASK=".utf8)
    static let attemptPrefix = Array("BATON_ATTEMPT=".utf8)

    private static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while result.count < limit {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count > 0 {
                result += buffer[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return result
    }
}
