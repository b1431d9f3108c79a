import Foundation
import Testing

/// The three concurrency bounds (SPEC §2): the worker pool, the run's and the group's
/// `max_parallel`. Every task appends `+ NAME` when it starts and `- NAME` when it ends to
/// one shared file (O_APPEND lines are atomic); replaying it gives the concurrency.
@Suite(.timeLimit(.minutes(1)))
struct RunConcurrencyTests {
    static let marking =
        "echo \"+ $BATON_TASK\" >> \"$DIR/events\"; sleep 0.3; echo \"- $BATON_TASK\" >> \"$DIR/events\""

    /// The most tasks between their `+` and `-` at once.
    static func peak(_ lines: [String]) -> Int {
        var running = 0
        var peak = 0
        for line in lines {
            running += line.hasPrefix("+ ") ? 1 : -1
            peak = max(peak, running)
        }
        return peak
    }

    static func tasks(_ count: Int, group: String? = nil) -> [[String: Any]] {
        (1...count).map { index in
            var task: [String: Any] = ["name": "t\(index)", "command": marking]
            if let group { task["group"] = group }
            return task
        }
    }

    @Test func runMaxParallelBoundsRunningTasks() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "run-window", "max_parallel": 2, "tasks": Self.tasks(6),
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.counts["succeeded"] == 6)
        let events = scratch.lines("events")
        #expect(events.count == 12)
        #expect(Self.peak(events) == 2, "\(events)")
    }

    @Test func groupMaxParallelBoundsRunningTasks() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "group-window", "groups": [["name": "g", "max_parallel": 3]], "tasks": Self.tasks(7, group: "g"),
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.counts["succeeded"] == 7)
        let events = scratch.lines("events")
        #expect(events.count == 14)
        #expect(Self.peak(events) == 3, "\(events)")
    }

    @Test func workerPoolBoundsRunningTasks() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(
            spec: ["name": "pool", "tasks": Self.tasks(4)], extra: ["--workers", "1"])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.counts["succeeded"] == 4)
        let events = scratch.lines("events")
        #expect(events.count == 8)
        #expect(Self.peak(events) == 1, "\(events)")
    }

    /// The original format: a parallel group runs at most max(1, cores ÷ 2) tasks at once.
    @Test func seedFormatParallelGroupRunsHalfTheCores() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let limit = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        let count = limit + 2
        var yaml = """
            mode: waitall
            groups:
              - Group: Wide
                Strategy: parallel
            tasks:

            """
        for index in 1...count {
            yaml += """
                  - Command: echo "+ $BATON_TASK" >> "\(scratch.directory.path)/events"; sleep 0.3; echo "- $BATON_TASK" >> "\(scratch.directory.path)/events"
                    Name: task \(index)
                    Group: Wide

                """
        }
        let spec = try scratch.write("scheduler.yaml", yaml)
        let (exit, run) = try await scratch.run(spec)
        #expect(exit.status == 0, "\(exit)")
        #expect(run.counts["succeeded"] == count)
        let events = scratch.lines("events")
        #expect(events.count == 2 * count)
        #expect(Self.peak(events) == limit, "\(events)")
    }
}
