import Foundation
import Testing

@testable import BatonCore

/// Canonical native JSON: explicit, deterministic, and read back to the same spec.
@Suite struct SpecEncoderTests {
    private func roundTrip(_ spec: WorkflowSpec, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(SpecValidator.validate(spec).isEmpty, "not a valid spec", sourceLocation: sourceLocation)
        let data = SpecEncoder.encode(spec)
        do {
            let back = try SpecParser.parse(data, format: .auto, cores: 1)
            #expect(back == spec, sourceLocation: sourceLocation)
        } catch {
            Issue.record("encoded spec does not parse: \(error)", sourceLocation: sourceLocation)
        }
        #expect(SpecEncoder.encode(spec) == data, "encoding is not deterministic", sourceLocation: sourceLocation)
        // Plain JSON for any other reader too.
        #expect((try? JSONSerialization.jsonObject(with: data)) != nil, sourceLocation: sourceLocation)
    }

    @Test func canonicalFormIsExplicitAndSorted() {
        let spec = WorkflowSpec(tasks: [TaskSpec(name: "a", command: .shell("echo \"hi\""))])
        let expected =
            #"{"env":{},"groups":[],"kill_grace_seconds":10,"max_parallel":null,"mode":"waitcurrent","name":"run","notify":[],"#
            + #""tasks":[{"command":"echo \"hi\"","critical":false,"cwd":null,"depends_on":[],"env":{},"forever":false,"#
            + #""group":null,"name":"a","on_timeout":null,"restartable":true,"retries":0,"retry_backoff":"fixed","#
            + #""retry_delay_seconds":0,"retry_exit_codes":[],"retry_max_delay_seconds":3600,"timeout_seconds":300,"#
            + #""trigger":"all_success"}],"timeout_seconds":null}"#
        #expect(String(decoding: SpecEncoder.encode(spec), as: UTF8.self) == expected)
    }

    @Test func groupsAndNotifyAreExplicit() {
        let spec = WorkflowSpec(
            groups: [GroupSpec(name: "g", strategy: .sequential, mode: .runalways)],
            tasks: [TaskSpec(name: "a", command: .argv(["ls", "-l"]), group: "g")],
            notify: [NotifySpec(url: "https://x.test/h")])
        let text = String(decoding: SpecEncoder.encode(spec), as: UTF8.self)
        #expect(
            text.contains(#""groups":[{"max_parallel":null,"mode":"runalways","name":"g","strategy":"sequential"}]"#))
        #expect(text.contains(#""notify":[{"on":["failed","timed_out"],"secret":null,"url":"https://x.test/h"}]"#))
        #expect(text.contains(#""command":["ls","-l"]"#))
    }

    @Test func envKeysAreSortedWhateverTheDictionaryOrder() {
        let env = Dictionary(uniqueKeysWithValues: (0..<50).map { ("K\($0)", "v\($0)") })
        let spec = WorkflowSpec(env: env, tasks: [TaskSpec(name: "a", command: .shell("x"))])
        let text = String(decoding: SpecEncoder.encode(spec), as: UTF8.self)
        let keys = env.keys.sorted().map { "\"\($0)\":\"\(env[$0]!)\"" }.joined(separator: ",")
        #expect(text.hasPrefix(#"{"env":{"# + keys + "}"))
    }

    @Test func defaultsRoundTrip() {
        roundTrip(WorkflowSpec(tasks: [TaskSpec(name: "a", command: .shell("x"))]))
    }

    @Test func everyFieldRoundTrips() {
        roundTrip(
            WorkflowSpec(
                name: "nightly ✓", mode: .failfast, maxParallel: 3, timeoutSeconds: 0.1, killGraceSeconds: 0,
                env: ["A": "1", "EMPTY": "", "Ü": "line\nbreak\t\"q\" \\ \u{1}"],
                groups: [
                    GroupSpec(name: "build", strategy: .parallel, mode: .waitall, maxParallel: 7),
                    GroupSpec(name: "cleanup", strategy: .sequential, mode: .runalways),
                    GroupSpec(name: "empty"),
                ],
                tasks: [
                    TaskSpec(
                        name: "compile", command: .argv(["make", "-j", "4"]), group: "build", trigger: .allDone,
                        timeoutSeconds: 1e-3, onTimeout: .argv(["kill"]), retries: 5, retryExitCodes: [0, 75, 255],
                        retryDelaySeconds: 2.5, retryBackoff: .exponential, retryMaxDelaySeconds: 1e9, critical: true,
                        forever: true, restartable: false, env: ["X": "y"], cwd: "/tmp/a b"),
                    TaskSpec(
                        name: "sh", command: .shell("echo $HOME && exit 3"), dependsOn: ["compile"], timeoutSeconds: 0),
                    TaskSpec(
                        name: "rm", command: .shell("rm -rf out"), group: "cleanup", dependsOn: ["sh", "compile"]),
                ],
                notify: [
                    NotifySpec(
                        url: "https://x.test/h?a=1&b=2", on: [.succeeded, .failed, .timedOut, .cancelled], secret: "s"),
                    NotifySpec(url: "http://127.0.0.1:9/"),
                ]))
    }

    @Test func originalFormatSpecsComeBackNativeWithExplicitGroupLimits() throws {
        let seed = try SpecParser.parse(
            Data(SeedFormatTests.sample.replacingOccurrences(of: "sequential", with: "parallel").utf8), cores: 6)
        #expect(seed.groups.map(\.maxParallel) == [3, 3])
        roundTrip(seed)
        let data = SpecEncoder.encode(seed)
        // Read back on a machine with other cores, the limits stay those of the original parse.
        #expect(try SpecParser.parse(data, cores: 64) == seed)
    }

    @Test func awkwardNumbersRoundTrip() {
        let values: [Double] = [
            0, 0.1, 1.0 / 3, 299.99999999999994, 1e-300, 123_456_789.123, 9_007_199_254_740_992, 1e20,
        ]
        for value in values {
            roundTrip(
                WorkflowSpec(
                    timeoutSeconds: max(value, 1e-9), killGraceSeconds: value,
                    tasks: [TaskSpec(name: "a", command: .shell("x"), timeoutSeconds: value, retryDelaySeconds: value)])
            )
        }
    }

    @Test func generatedSpecsRoundTrip() {
        var random = SplitMix(seed: 42)
        for _ in 0..<200 {
            roundTrip(Self.randomSpec(&random))
        }
    }

    @Test func aLargeSpecRoundTrips() throws {
        let data = SpecGraphTests.layeredSpec(tasks: 20_000, width: 50)
        let spec = try SpecParser.parse(data)
        #expect(try SpecParser.parse(SpecEncoder.encode(spec)) == spec)
    }

    /// A valid spec exercising the optional fields at random.
    static func randomSpec(_ random: inout SplitMix) -> WorkflowSpec {
        let words = ["a", "b c", "ü", "x\"y", "tab\there", "😀", "back\\slash", "--flag"]
        func word() -> String { words[random.next(words.count)] }
        func maybe<T>(_ make: () -> T) -> T? { random.next(2) == 0 ? nil : make() }
        func seconds() -> Double { Double(random.next(100_000)) / Double(1 + random.next(1000)) }
        let groups = (0..<random.next(4)).map { index in
            let strategy: GroupStrategy = random.next(2) == 0 ? .sequential : .parallel
            return GroupSpec(
                name: "g\(index)", strategy: strategy, mode: maybe { FailureMode.allCases[random.next(4)] },
                maxParallel: strategy == .parallel ? maybe { 1 + random.next(8) } : nil)
        }
        var tasks: [TaskSpec] = []
        for index in 0..<(1 + random.next(12)) {
            // Dependencies on earlier tasks only, ungrouped tasks only: never a cycle or an
            // ordering problem.
            let group = groups.isEmpty ? nil : maybe { groups[random.next(groups.count)].name }
            let deps =
                group == nil && index > 0
                ? Array(Set((0..<random.next(3)).map { _ in "t\(random.next(index))" })).sorted() : []
            tasks.append(
                TaskSpec(
                    name: "t\(index)",
                    command: random.next(2) == 0
                        ? .shell("echo \(word())") : .argv(["prog"] + (0..<random.next(3)).map { _ in word() }),
                    group: group, dependsOn: deps, trigger: random.next(2) == 0 ? .allSuccess : .allDone,
                    timeoutSeconds: seconds(), onTimeout: maybe { .shell("cleanup \(word())") },
                    retries: random.next(4),
                    retryExitCodes: (0..<random.next(3)).map { _ in Int32(random.next(256)) },
                    retryDelaySeconds: seconds(), retryBackoff: random.next(2) == 0 ? .fixed : .exponential,
                    retryMaxDelaySeconds: 1 + seconds(), critical: random.next(2) == 0, forever: random.next(5) == 0,
                    restartable: random.next(2) == 0, env: maybe { ["K\(random.next(5))": word()] } ?? [:],
                    cwd: maybe { "/srv/\(word())" }))
        }
        return WorkflowSpec(
            name: ["nightly", "b c", "ü", "x\"y", "😀"][random.next(5)],
            mode: [.failfast, .waitcurrent, .waitall][random.next(3)],
            maxParallel: maybe { 1 + random.next(16) }, timeoutSeconds: maybe { 1 + seconds() },
            killGraceSeconds: seconds(), env: maybe { ["E": word()] } ?? [:], groups: groups, tasks: tasks,
            notify: maybe {
                [NotifySpec(url: "https://h.test/\(random.next(9))", on: [.failed], secret: maybe { word() })]
            } ?? [])
    }
}

/// A small deterministic generator, so generated cases are the same on every run.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A value in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
