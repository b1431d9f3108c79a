import Foundation
import Glibc

/// What /proc says about the processes of the machine.
enum ProcessTable {
    /// One line of /proc/PID/stat.
    struct Entry: Sendable, CustomStringConvertible {
        var pid: pid_t
        var command: String
        var state: Character
        var ppid: pid_t
        var pgid: pid_t

        var isZombie: Bool { state == "Z" || state == "X" }

        var description: String {
            let arguments =
                FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
                .map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) } ?? ""
            // Which task it belongs to, when it is one.
            let task = (FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data())
                .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                .filter { $0.hasPrefix("BATON_TASK=") || $0.hasPrefix("BATON_ATTEMPT=") }
            return "pid \(pid) (\(command)) state \(state) ppid \(ppid) pgid \(pgid) \(task): \(arguments)"
        }
    }

    /// /proc/PID/stat of `pid`, or nil when there is no such process.
    static func entry(_ pid: pid_t) -> Entry? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        // "PID (COMM) STATE PPID PGRP ...": COMM may hold spaces and parentheses.
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let ppid = pid_t(fields[1]),
            let pgid = pid_t(fields[2])
        else { return nil }
        return Entry(
            pid: pid, command: String(text[text.index(after: open)..<close]), state: state, ppid: ppid,
            pgid: pgid)
    }

    /// Every process id in /proc.
    static func allPIDs() -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }
    }

    /// True while `pid` exists and is not a zombie (`kill(pid, 0)` succeeds for zombies
    /// too, and an orphan's zombie waits for init, which is not Baton's business).
    static func isAlive(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let entry = entry(pid) else { return false }
        return !entry.isZombie
    }

    /// Live (non-zombie) members of process group `pgid`.
    static func members(ofGroup pgid: pid_t) -> [Entry] {
        allPIDs().compactMap(entry).filter { $0.pgid == pgid && !$0.isZombie }
    }

    /// Processes whose environment holds `name=value` (the scratch tag).
    static func pids(carrying name: String, value: String) -> [pid_t] {
        let needle = Array("\(name)=\(value)".utf8)
        return allPIDs().filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return data.split(separator: 0).contains { $0.elementsEqual(needle) }
        }
    }

    /// Live processes of this scratch (Baton, tasks, orphans).
    static func survivors(of scratch: Scratch) -> [Entry] {
        pids(carrying: Scratch.tagVariable, value: scratch.tag).compactMap(entry).filter { !$0.isZombie }
    }
}

/// Polling on a condition: the synchronisation of these tests is on files the tasks write
/// and on process states, never on fixed sleeps. `limit` is a generous upper bound whose
/// expiry is a failure.
func waitUntil(
    _ what: @autoclosure () -> String, within limit: Duration = .seconds(30),
    _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try !condition() {
        if ContinuousClock.now >= deadline { throw E2EError("timed out after \(limit) waiting for \(what())") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

extension Scratch {
    /// Waits until file `name` exists (written by a task) and returns its contents.
    @discardableResult
    func waitForFile(_ name: String, within limit: Duration = .seconds(30)) async throws -> String {
        try await waitUntil("file \(name)", within: limit) { FileManager.default.fileExists(atPath: path(name)) }
        return read(name) ?? ""
    }

    /// Waits until `baton` has exited while watching for file `name`: a task that never gets
    /// to write it fails the test quickly instead of hanging.
    func waitForFile(_ name: String, while process: BatonProcess, within limit: Duration = .seconds(30))
        async throws
    {
        try await waitUntil("file \(name)", within: limit) {
            if FileManager.default.fileExists(atPath: path(name)) { return true }
            if !process.isRunning {
                throw E2EError("baton exited before \(name) appeared; stderr:\n\(process.currentStderr)")
            }
            return false
        }
    }
}
