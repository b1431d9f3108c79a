import Foundation
import Testing

/// Issue 13 item 6: deadlines, kill grace and retry delays run on a monotonic clock; shown
/// times stay wall-clock. The wall clock of the server alone is stepped with libfaketime
/// (Debian `faketime`, which CI installs): its offset is read from a file at most a second
/// old,
/// while CLOCK_MONOTONIC is left alone.
@Suite struct ServerClockStepTests {
    static let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: libfaketime)))
    func wallClockStepsNeitherKillTasksEarlyNorDelayTheirTimeouts() async throws {
        let scratch = try Scratch()
        let offsetFile = scratch.path("faketime-offset")
        try "+0\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
        var options = ServerOptions(
            workers: 4,
            environment: [
                "LD_PRELOAD": Self.libfaketime, "FAKETIME_TIMESTAMP_FILE": offsetFile,
                "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            ])
        // Started straight from this process, the preloaded server sees no arguments (a
        // libfaketime quirk seen with Swift binaries); through env(1) it does.
        options.launcher = ["/usr/bin/env"]
        try await withTestServer(options) { server in
            // The tasks themselves run without libfaketime. The checks never depend on how
            // soon this test observes a state (a loaded machine delays its polls by seconds).
            let plain: [String: String] = ["LD_PRELOAD": ""]

            // 1. Forward: a task under a 30 s limit, ended by a file after the clock has
            // jumped an hour ahead, must succeed; wall-clock timers kill it at the jump.
            let forward = try await server.submit([
                "env": plain, "tasks": [["name": "long", "command": waitForFileCommand("go"), "timeout_seconds": 30]],
            ])
            let forwardID = try #require(forward["id"] as? String)
            try await server.waitForTask(forwardID, "long", status: "running")
            try "+3600\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            // The server reads the offset within a second.
            try await Task.sleep(for: .milliseconds(2000))
            try server.touch("go")
            let stepped = try await server.waitForRun(forwardID, within: .seconds(40))
            #expect(task(stepped, "long")?["status"] as? String == "succeeded", "\(stepped)")
            // Shown times follow the (stepped) wall clock: an hour ahead of the real one.
            let finished = try #require(
                (stepped["finished_at"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) })
            let ahead = finished.timeIntervalSince(Date())
            #expect(abs(ahead - 3600) < 60, "finished_at \(finished) is \(ahead) s ahead of the real clock")

            // 2. Backward: a stuck task with a 4 s limit, the clock set back an hour while
            // it runs, must time out after its 4 s, not an hour later.
            let backward = try await server.submit([
                "env": plain, "kill_grace_seconds": 1,
                "tasks": [["name": "stuck", "command": "sleep 60", "timeout_seconds": 4]],
            ])
            let backwardID = try #require(backward["id"] as? String)
            try await server.waitForTask(backwardID, "stuck", status: "running")
            try "-3600\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            let stuck = try await server.waitForRun(backwardID, within: .seconds(40))
            #expect(task(stuck, "stuck")?["status"] as? String == "timed_out", "\(stuck)")
            let duration = task(stuck, "stuck")?["duration_seconds"] as? Double ?? 0
            #expect(duration > 3.9 && duration < 10, "shown duration \(duration) s")
        }
        withExtendedLifetime(scratch) {}
    }
}

extension ISO8601DateFormatter {
    /// The API's timestamps: RFC 3339 with milliseconds.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
