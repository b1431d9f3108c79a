import Foundation
import Testing

/// Logs, exit codes and the plain (non-JSON) output of `baton run` (SPEC §2, §5).
@Suite(.timeLimit(.minutes(1)))
struct RunOutputTests {
    static let mebibyte = 1 << 20

    @Test func logIsCappedWithATruncationMarker() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "big-log",
            "tasks": [
                // 11 MiB on stdout, then a line on stderr and a marker file: the task is never
                // blocked on a full pipe once the cap is reached.
                [
                    "name": "chatty",
                    "command":
                        "head -c \(11 * Self.mebibyte) /dev/zero | tr '\\0' x; echo done >&2; touch \"$DIR/chatty-done\"",
                ]
            ],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(try run.task("chatty").status == "succeeded")
        #expect(scratch.read("chatty-done") != nil)
        let path = scratch.path("data/logs/\(run.id)/0.1.log")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
        let cap = 10 * Self.mebibyte
        #expect(size >= cap, "log holds \(size) bytes, less than the 10 MiB cap")
        #expect(size <= cap + 200, "log holds \(size) bytes, more than the cap plus a marker")
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(cap - 10))
        let tail = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        #expect(tail.hasPrefix(String(repeating: "x", count: 10)), "the first 10 MiB of output are kept")
        #expect(tail.lowercased().contains("truncated"), "no truncation marker at the end: \(tail.suffix(200))")
        #expect(!tail.contains("done"), "output past the cap was kept")
    }

    @Test func stdoutAndStderrBothGoToTheAttemptLog() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "streams", "tasks": [["name": "t", "command": "echo out; echo err >&2; echo out again"]],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(try scratch.log(run, task: "t") == "out\nerr\nout again\n")
    }

    @Test func exitCodeAndSignalOfTasksAreReported() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: [
            "name": "codes",
            "mode": "waitall",
            "tasks": [
                ["name": "zero", "command": "exit 0"],
                ["name": "seven", "command": "exit 7"],
                ["name": "killed", "command": "kill -KILL $$"],
            ],
        ])
        #expect(exit.status == 1, "\(exit)")
        #expect(try run.task("zero").exitCode == 0)
        let seven = try run.task("seven")
        #expect(seven.status == "failed")
        #expect(seven.exitCode == 7)
        #expect(seven.signal == nil)
        #expect(seven.reason == "exit code 7")
        let killed = try run.task("killed")
        #expect(killed.status == "failed")
        #expect(killed.signal == 9)
        #expect(killed.exitCode == nil)
        #expect(killed.reason == "killed by signal 9")
    }

    @Test func runExitsZeroWhenTheRunSucceeded() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (exit, run) = try await scratch.run(spec: ["name": "fine", "tasks": [["name": "t", "command": "true"]]])
        #expect(exit.status == 0, "\(exit)")
        #expect(run.status == "succeeded")
        #expect(
            run.counts == [
                "pending": 0, "running": 0, "succeeded": 1, "failed": 0, "timed_out": 0, "cancelled": 0, "skipped": 0,
            ])
        // --json: progress goes to stderr, stdout holds the run alone.
        #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{"))
        #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("}"))
    }

    @Test func runExitsTwoOnAnInvalidSpecAndRunsNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.write(
            "bad.json", #"{"tasks": [{"name": "a", "command": "touch ran", "depends_on": ["nope"]}]}"#)
        let exit = try await scratch.baton(["run", spec, "--json", "--data-dir", scratch.dataDirectory])
        #expect(exit.status == 2, "\(exit)")
        #expect(exit.stdout.isEmpty, "\(exit)")
        #expect(exit.errorLines.contains { $0.hasPrefix("\(spec): tasks[0].depends_on[0]: ") }, "\(exit)")
        #expect(scratch.read("ran") == nil)
    }

    @Test func runExitsTwoOnAMissingFile() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let exit = try await scratch.baton(["run", scratch.path("missing.yaml"), "--data-dir", scratch.dataDirectory])
        #expect(exit.status == 2, "\(exit)")
        #expect(exit.errorLines.count == 1, "one clear line: \(exit)")
    }

    @Test func runWithoutJSONPrintsProgressAndATable() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "plain", "mode": "waitall",
            "tasks": [["name": "good task", "command": "true"], ["name": "bad task", "command": "exit 5"]],
        ])
        let exit = try await scratch.baton(["run", spec, "--data-dir", scratch.dataDirectory])
        #expect(exit.status == 1, "\(exit)")
        #expect(exit.stdout.contains("good task"), "\(exit)")
        #expect(exit.stdout.contains("bad task"), "\(exit)")
        #expect(exit.stdout.contains("failed"), "\(exit)")
        #expect(!exit.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    /// A sub-workflow's tasks are numbered from 0 in their own run: their lines must neither
    /// hide the parent's (same index) nor pass for them (same name).
    @Test func progressNamesSubWorkflowTasksByTheirPath() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let spec = try scratch.writeSpec([
            "name": "nested", "mode": "waitall",
            "tasks": [
                ["name": "first", "command": "true"],
                [
                    "name": "sub", "depends_on": ["first"],
                    "tasks": [
                        ["name": "a", "command": "true"], ["name": "b", "command": "exit 3", "depends_on": ["a"]],
                    ],
                ],
                ["name": "last", "command": "true", "depends_on": ["sub"], "trigger": "all_done"],
            ],
        ])
        let exit = try await scratch.baton(["run", spec, "--data-dir", scratch.dataDirectory])
        #expect(exit.status == 1, "\(exit)")
        let progress = exit.stdout.split(separator: "\n").map { line in
            // `14:34:05 succeeded first (0.00s)` without the clock and the detail.
            line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().prefix(2).joined(separator: " ")
        }
        for expected in [
            "running first", "succeeded first", "running sub", "running sub/a", "succeeded sub/a", "running sub/b",
            "failed sub/b", "failed sub", "running last", "succeeded last",
        ] {
            #expect(progress.contains(expected), "no line \"\(expected)\" in \(exit.stdout)")
        }
        #expect(!progress.contains("running a") && !progress.contains("running b"), "\(exit.stdout)")
    }
}
