import Foundation
import Testing

@testable import BatonCore

/// Seeded random workloads: random specs (groups, modes, limits, retries, timeouts, hooks,
/// forever tasks) driven by random exits, clock jumps and cancels. Every step checks the
/// harness invariants (no stall, pool accounting, run `max_parallel`); every spawn is
/// checked against the ordering rules; every run must end with every task ended.
@Suite struct EngineRandomizedTests {
    /// SplitMix64: deterministic, so a failing seed reproduces.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomSpec(_ rng: inout SeededGenerator) -> WorkflowSpec {
        let groupCount = Int.random(in: 0...3, using: &rng)
        let modes: [FailureMode] = [.failfast, .waitcurrent, .waitall]
        let groups = (0..<groupCount).map { index in
            GroupSpec(
                name: "g\(index)", strategy: Bool.random(using: &rng) ? .sequential : .parallel,
                mode: Int.random(in: 0..<4, using: &rng) == 0
                    ? (Bool.random(using: &rng) ? .runalways : modes.randomElement(using: &rng))
                    : nil,
                maxParallel: Bool.random(using: &rng) ? Int.random(in: 1...3, using: &rng) : nil)
        }
        let taskCount = Int.random(in: 1...25, using: &rng)
        // A task's level: its group, or for an ungrouped task the highest level of its
        // dependencies. Dependencies never point to a higher level, so the group order
        // can always be satisfied (the validator's rule, applied transitively).
        var levels: [Int] = []
        var currentGroup = 0
        var tasks: [TaskSpec] = []
        for index in 0..<taskCount {
            var group: Int? = nil
            if groupCount > 0 && Int.random(in: 0..<3, using: &rng) > 0 {
                if Int.random(in: 0..<3, using: &rng) == 0 { currentGroup = min(groupCount - 1, currentGroup + 1) }
                group = currentGroup
            }
            var deps: [String] = []
            if index > 0 {
                for _ in 0..<Int.random(in: 0...2, using: &rng) {
                    let dep = Int.random(in: 0..<index, using: &rng)
                    if let group, levels[dep] > group { continue }
                    deps.append("t\(dep)")
                }
            }
            let level = group ?? deps.map { levels[Int($0.dropFirst())!] }.max() ?? -1
            levels.append(level)
            let timeout: Double =
                Int.random(in: 0..<4, using: &rng) == 0 ? Double(Int.random(in: 1...20, using: &rng)) : 0
            tasks.append(
                TaskSpec(
                    name: "t\(index)", command: .shell("t\(index)"), group: group.map { "g\($0)" },
                    dependsOn: deps,
                    trigger: Int.random(in: 0..<4, using: &rng) == 0 ? .allDone : .allSuccess,
                    timeoutSeconds: timeout,
                    onTimeout: Int.random(in: 0..<3, using: &rng) == 0 ? .shell("hook") : nil,
                    retries: Int.random(in: 0...2, using: &rng),
                    retryExitCodes: Bool.random(using: &rng) ? [] : [75],
                    retryDelaySeconds: Double(Int.random(in: 0...3, using: &rng)),
                    retryBackoff: Bool.random(using: &rng) ? .fixed : .exponential,
                    retryMaxDelaySeconds: 5,
                    critical: Int.random(in: 0..<10, using: &rng) == 0,
                    forever: Int.random(in: 0..<12, using: &rng) == 0,
                    restartable: Int.random(in: 0..<4, using: &rng) > 0))
        }
        return WorkflowSpec(
            mode: modes.randomElement(using: &rng)!,
            maxParallel: Bool.random(using: &rng) ? Int.random(in: 1...4, using: &rng) : nil,
            timeoutSeconds: Int.random(in: 0..<4, using: &rng) == 0 ? Double(Int.random(in: 5...60, using: &rng)) : nil,
            killGraceSeconds: Double(Int.random(in: 0...3, using: &rng)), groups: groups,
            tasks: tasks)
    }

    /// Whether starting `index` now respects dependencies, group order and sequence.
    static func mayStart(_ index: Int, spec: WorkflowSpec, tasks: [TaskRecord]) -> String? {
        let task = spec.tasks[index]
        func endedOrServing(_ other: Int) -> Bool {
            tasks[other].status.isTerminal || (spec.tasks[other].forever && tasks[other].attempt > 0)
        }
        let names = Dictionary(uniqueKeysWithValues: spec.tasks.enumerated().map { ($1.name, $0) })
        for dep in task.dependsOn.compactMap({ names[$0] }) {
            if !endedOrServing(dep) { return "dependency \(spec.tasks[dep].name) not ended" }
            if task.trigger == .allSuccess && tasks[dep].status != .succeeded
                && !(spec.tasks[dep].forever && tasks[dep].attempt > 0)
            {
                return "dependency \(spec.tasks[dep].name) did not succeed"
            }
        }
        guard let groupName = task.group, let group = spec.groups.firstIndex(where: { $0.name == groupName })
        else { return nil }
        for other in spec.tasks.indices {
            guard let otherGroup = spec.tasks[other].group,
                let position = spec.groups.firstIndex(where: { $0.name == otherGroup })
            else { continue }
            if position < group && !endedOrServing(other) {
                return "earlier group task \(spec.tasks[other].name) not ended"
            }
            if position == group && spec.groups[group].strategy == .sequential && other < index
                && !endedOrServing(other)
            {
                return "earlier sequential task \(spec.tasks[other].name) not ended"
            }
        }
        return nil
    }

    /// Checks a finished run: every task ended with a reason when it needs one, and the
    /// run status follows SPEC §2.
    static func validateFinished(_ machine: RunMachine, seed: Int) {
        let spec = machine.spec
        let runID = machine.runID
        for (index, row) in machine.taskRecords.enumerated() {
            #expect(row.status.isTerminal, "seed \(seed): \(runID) \(spec.tasks[index].name) \(row.status)")
            if row.status != .succeeded {
                #expect(row.reason != nil, "seed \(seed): \(runID) \(spec.tasks[index].name) has no reason")
            }
            #expect(row.pgid == nil, "seed \(seed)")
            #expect(row.retryAt == nil, "seed \(seed)")
        }
        let allSucceeded = machine.taskRecords.indices.allSatisfy {
            spec.tasks[$0].forever || machine.taskRecords[$0].status == .succeeded
        }
        let update = machine.runUpdate
        if update.cancelRequests > 0 {
            #expect(update.status == .cancelled, "seed \(seed)")
        } else if update.deadlineHit {
            #expect(update.status == .timedOut, "seed \(seed)")
        } else {
            #expect(update.status == (allSucceeded ? .succeeded : .failed), "seed \(seed): \(runID)")
        }
    }

    /// A fresh engine resuming every unfinished run from its rows, as a restarted server
    /// does (SPEC §3); the old engine's processes are gone.
    static func restart(
        _ old: EngineHarness, workers: Int, downtime: Double, done: Set<String>
    ) -> EngineHarness {
        var fresh = EngineHarness(workers: workers)
        fresh.exitOnKill = old.exitOnKill
        fresh.exitOnTerminate = old.exitOnTerminate
        fresh.now = old.now.addingTimeInterval(downtime)
        for runID in old.engine.runs.keys.sorted() where !done.contains(runID) {
            let machine = old.engine.runs[runID]!
            let update = machine.runUpdate
            let record = RunRecord(
                id: runID, name: machine.spec.name, status: update.status,
                createdAt: EngineHarness.epoch, startedAt: update.startedAt,
                finishedAt: update.finishedAt, specJSON: Data(), specHash: "test",
                cancelRequests: update.cancelRequests, deadlineHit: update.deadlineHit)
            fresh.add(
                RunMachine(record: record, spec: machine.spec, tasks: machine.taskRecords, now: fresh.now))
        }
        return fresh
    }

    @Test(arguments: 0..<500)
    func randomWorkloadsKeepEveryRule(seed: Int) {
        var rng = SeededGenerator(state: UInt64(seed) &* 7919 &+ 17)
        let workers = Int.random(in: 1...3, using: &rng)
        var h = EngineHarness(workers: workers)
        h.exitOnKill = Int.random(in: 0..<4, using: &rng) > 0
        h.exitOnTerminate = Bool.random(using: &rng)
        let runCount = Int.random(in: 1...3, using: &rng)
        let crashes = seed % 3 == 0
        for run in 0..<runCount {
            h.add(Self.randomSpec(&rng), runID: "r\(run)")
        }
        var done = Set<String>()
        var checked = 0
        var steps = 0
        while done.count < runCount {
            steps += 1
            if steps > 5_000 {
                Issue.record("seed \(seed): runs did not finish: \(h.finished)")
                return
            }
            // Check the spawns made since the last step, against the rows as they are now
            // (a task that started cannot have unmet constraints unless it started early).
            while checked < h.spawns.count {
                let plan = h.spawns[checked]
                checked += 1
                guard !plan.isTimeoutHook, let machine = h.engine.runs[plan.ref.runID] else { continue }
                if let problem = Self.mayStart(plan.ref.task, spec: machine.spec, tasks: machine.taskRecords) {
                    Issue.record("seed \(seed): \(plan.taskName) of \(plan.ref.runID) started early: \(problem)")
                }
            }
            for (runID, status) in h.finished where !done.contains(runID) {
                done.insert(runID)
                guard let machine = h.engine.runs[runID] else { continue }
                #expect(status == machine.runUpdate.status, "seed \(seed)")
                Self.validateFinished(machine, seed: seed)
            }
            if done.count == runCount { break }
            let roll = Int.random(in: 0..<100, using: &rng)
            let liveRefs = h.live.keys.sorted { ($0.runID, $0.task) < ($1.runID, $1.task) }
            if roll < 2 {
                h.cancel(run: "r\(Int.random(in: 0..<runCount, using: &rng))")
            } else if roll < 4 && crashes {
                h = Self.restart(
                    h, workers: workers, downtime: Double(Int.random(in: 0...20, using: &rng)), done: done)
                checked = 0
            } else if roll < 20 || liveRefs.isEmpty {
                if liveRefs.isEmpty, let wake = h.nextWake {
                    h.advance(to: wake)
                } else if liveRefs.isEmpty {
                    h.advance(by: 1)
                } else {
                    h.advance(by: Double(Int.random(in: 1...8, using: &rng)))
                }
            } else {
                let ref = liveRefs.randomElement(using: &rng)!
                let codes: [Int32] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 75]
                if Int.random(in: 0..<25, using: &rng) == 0 {
                    h.exit(ref, code: nil, signal: 9)
                } else {
                    h.exit(ref, code: codes.randomElement(using: &rng)!, signal: nil)
                }
            }
        }
        #expect(h.live.isEmpty, "seed \(seed)")
        #expect(h.engine.busy == 0, "seed \(seed)")
    }
}
