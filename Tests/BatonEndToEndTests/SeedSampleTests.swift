import Foundation
import Testing

/// The seed-000 sample as its users run it: `baton run scheduler.yaml` from its folder.
@Suite(.timeLimit(.minutes(1)))
struct SeedSampleTests {
    static var hasPowerShell: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/pwsh")
        }
    }

    @Test(.enabled(if: !hasPowerShell, "Script One only fails where pwsh is missing"))
    func seed000RunsScriptTwoAfterScriptOneFails() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let folder = TestSupport.examples.appendingPathComponent("seed-000").path
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let (exit, run) = try await scratch.run("scheduler.yaml", extra: [], directory: folder)
        #expect(exit.status == 1, "\(exit)")
        #expect(run.status == "failed")
        let one = try run.task("Script One")
        #expect(one.status == "failed")
        #expect(one.group == "GroupOne")
        #expect(one.exitCode == 127, "pwsh: not found")
        let two = try run.task("Script Two")
        #expect(two.status == "succeeded")
        #expect(two.group == "GroupTwo")
        #expect(try two.started() >= one.finished())
        let log = try scratch.log(run, task: "Script Two")
        #expect(log.contains("script two: cleaning up (run \(run.id), task Script Two, attempt 1)"), "\(log)")
        #expect(log.contains("script two: done"), "\(log)")
        #expect(try scratch.log(run, task: "Script One").contains("pwsh"))
        // Nothing written next to the sample.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
    }

    /// The original format's `TimeoutInMinutes` (fractions allowed) and `RunCommandOnTimeout`.
    @Test func seedFormatTimeoutRunsRunCommandOnTimeout() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "scheduler.yaml",
            """
            mode: waitall
            groups:
                - Group: Only
                  Strategy: sequential
            tasks:
                 - Command: echo begun; sleep 1000
                   Name: Too Slow
                   Group: Only
                   TimeoutInMinutes: 0.01
                   RunCommandOnTimeout: echo "timeout handler for $BATON_TASK"
                 - Command: echo next
                   Name: Next
                   Group: Only
            """)
        let (exit, run) = try await scratch.run(spec)
        #expect(exit.status == 1, "\(exit)")
        let slow = try run.task("Too Slow")
        #expect(slow.status == "timed_out")
        #expect(
            slow.durationSeconds.map { $0 >= 0.55 && $0 < 30 } == true,
            "0.01 min = 0.6 s: \(String(describing: slow.durationSeconds))")
        let log = try scratch.log(run, task: "Too Slow")
        #expect(log.hasPrefix("begun\n"), "\(log)")
        #expect(log.contains("timeout handler for Too Slow"), "\(log)")
        #expect(try run.task("Next").status == "succeeded", "a sequential group under waitall goes on")
    }
}
