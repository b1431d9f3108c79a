import Foundation
import Glibc
import Testing

@testable import BatonRunner

/// Helpers for the process-layer tests: temp dirs, driving a reactor, reading /proc.
enum ProcessTestSupport {
    /// A small, explicit child environment (the reactor passes nothing else).
    static let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"]

    /// A fresh directory under the system temp dir; removed by `TempDirectory.remove()`.
    /// Runs `body` with one of baton_spawn's paths switched off when `enabled` is false
    /// (`switched` is `baton_spawn_uses_clone3` or `baton_spawn_shares_files`), then puts
    /// the switch back. The fallback paths are as correct as the usual ones, so switching
    /// under concurrent tests only changes how they spawn.
    static func withSpawnPath<Result>(
        _ switched: (Int32) -> Int32, enabled: Bool, _ body: () throws -> Result
    ) rethrows -> Result {
        let before = switched(-1)
        if !enabled { _ = switched(0) }
        defer { _ = switched(before) }
        return try body()
    }

    static func makeTempDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/baton-process-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil, "mkdtemp failed: errno \(errno)")
        // Resolve symlinks so `pwd -P` in a child compares equal.
        return URL(fileURLWithPath: String(cString: made!)).resolvingSymlinksInPath().path
    }

    static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func request(
        _ argv: [String], tag: UInt64 = 1, log: String,
        environment: [String: String] = ProcessTestSupport.environment,
        workingDirectory: String? = nil, cap: Int = SpawnRequest.defaultLogCapBytes
    ) -> SpawnRequest {
        SpawnRequest(
            tag: tag, argv: argv, environment: environment, workingDirectory: workingDirectory,
            logPath: log, logCapBytes: cap)
    }

    /// Polls until `count` exits were reported or `seconds` passed (a generous bound:
    /// reaching it is a failure, not a synchronisation).
    static func collectExits(_ reactor: ChildReactor, count: Int, within seconds: Double = 30)
        -> [ChildExit]
    {
        let deadline = Date() + seconds
        var exits: [ChildExit] = []
        while exits.count < count && Date() < deadline {
            exits += reactor.poll(until: deadline)
        }
        return exits
    }

    /// Drives the reactor (which pumps output into the logs) until `condition` holds;
    /// false if it did not within `seconds`. Exits seen on the way go to `exits`.
    static func drive(
        _ reactor: ChildReactor, within seconds: Double = 30, exits: inout [ChildExit],
        until condition: () -> Bool
    ) -> Bool {
        let deadline = Date() + seconds
        while !condition() {
            if Date() >= deadline { return false }
            exits += reactor.poll(until: min(deadline, Date() + 0.02))
        }
        return true
    }

    static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The number after `marker` in `text` ("bg 1234" → 1234).
    static func number(after marker: String, in text: String) -> Int32? {
        guard let range = text.range(of: marker) else { return nil }
        return Int32(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// A process as /proc/PID/stat tells it.
    struct ProcInfo {
        var pid: Int32
        var state: Character
        var ppid: Int32
        var pgrp: Int32
    }

    static func procInfo(_ pid: Int32) -> ProcInfo? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let ppid = Int32(fields[1]),
            let pgrp = Int32(fields[2])
        else { return nil }
        return ProcInfo(pid: pid, state: state, ppid: ppid, pgrp: pgrp)
    }

    /// Every process of group `pgid`, zombies included.
    static func members(ofGroup pgid: Int32) -> [ProcInfo] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.compactMap(procInfo).filter { $0.pgrp == pgid }
    }

    /// Every process of group `pgid` that is not a zombie (a zombie is dead: it runs
    /// nothing and holds nothing but its exit status, waiting for its parent).
    static func liveMembers(ofGroup pgid: Int32) -> [Int32] {
        members(ofGroup: pgid).filter { $0.state != "Z" && $0.state != "X" }.map(\.pid)
    }

    /// Whether `pid` exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let info = procInfo(pid) else { return false }
        return info.state != "Z" && info.state != "X"
    }

    /// Waits, up to a generous bound, for `condition`: for effects the kernel completes
    /// asynchronously (a SIGKILLed process disappearing), never to order events.
    static func eventually(within seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date() + seconds
        while !condition() {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// Children of this process, from every thread's /proc/self/task/TID/children
    /// (zombies included: they stay listed until reaped).
    static func childrenOfThisProcess() -> Set<Int32> {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var result = Set<Int32>()
        for task in tasks {
            let text = contents("/proc/self/task/\(task)/children")
            for pid in text.split(separator: " ") { if let pid = Int32(pid) { result.insert(pid) } }
        }
        return result
    }

    static func openDescriptorCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }
}
