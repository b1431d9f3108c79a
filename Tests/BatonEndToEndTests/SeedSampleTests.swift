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
}
