import BatonCore
import Foundation
import Glibc

// Cluster mode: task attempts shared between nodes (TaskDispatch). Everything happens on
// the executor thread, which alone knows its free slots:
// - As a run's owner, an attempt that finds no local slot is published instead of spawned
//   (the engine's pool is the cluster's: every live node's slots). Its outcome comes back
//   through the store and is fed to the engine like a local exit.
// - As any node, free local slots claim published attempts ("foreign" ones: of runs this
//   node does not own), run them, and report how they ended.
extension ExecutorLoop {
    /// Processes running on this machine: this node's runs' and other nodes' attempts.
    var localProcessCount: Int { tagToRef.count + foreignOfTag.count }

    /// Whether `plan` goes to another node: no local slot is free, and it is a plain
    /// command (sub-workflows, SSH tasks, timeout hooks and webhook-started runs, whose
    /// payload file is on this node, stay here).
    func shouldDispatch(_ plan: SpawnPlan) -> Bool {
        guard localProcessCount >= configuration.workers else { return false }
        return canDispatch(plan)
    }

    /// Whether `plan` may run on another node at all.
    func canDispatch(_ plan: SpawnPlan) -> Bool {
        configuration.dispatch != nil && plan.subWorkflow == nil && plan.ssh == nil && !plan.isTimeoutHook
            && extraEnvironment[plan.ref.runID] == nil
    }

    /// Whether this node has every label `plan` needs (`runs_on`).
    func labelsMatch(_ plan: SpawnPlan) -> Bool {
        plan.runsOn.allSatisfy { configuration.labels[$0.key] == $0.value }
    }

    /// A task whose `runs_on` this node does not satisfy: dispatched to a node that does
    /// (it waits, saying so, until one with a free slot claims it), or, when it cannot go
    /// to another node (no cluster, a sub-workflow, an SSH task), failed with the reason.
    func placeElsewhere(_ plan: SpawnPlan) {
        let wanted = plan.runsOn.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        guard canDispatch(plan) else {
            let own = configuration.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let message =
                "runs_on \(wanted): this node has \(own.isEmpty ? "no labels" : own.joined(separator: ","))"
                + (configuration.dispatch == nil ? " and there is no cluster" : ", and this task cannot run elsewhere")
            appendToLog(plan.logPath, "baton: \(message)\n")
            engine.spawnFailed(plan.ref, message: message, now: clock.now())
            return
        }
        queueForDispatch(plan)
        engine.noteWaiting(plan.ref, reason: "needs a node with \(wanted)")
    }

    /// Queues `plan` for the next `publishQueued` (one statement per round).
    func queueForDispatch(_ plan: SpawnPlan) {
        toPublish.append(
            DispatchedAttempt(
                runID: plan.ref.runID, taskIndex: plan.ref.task, attempt: plan.attempt, taskName: plan.taskName,
                argv: plan.command.argv, env: plan.env, cwd: plan.cwd, logPath: plan.logPath, runsOn: plan.runsOn))
        remoteAttempts[plan.ref] = plan.attempt
    }

    /// Publishes the attempts queued this round. One that cannot be (the store fails, or
    /// the run is no longer this node's) fails to start, as a spawn that failed.
    func publishQueued() {
        guard let dispatch = configuration.dispatch, !toPublish.isEmpty else { return }
        let attempts = toPublish
        toPublish.removeAll()
        var published: Set<DispatchKey> = []
        var problem = "the run is owned by another node now"
        do {
            published = try dispatch.publish(attempts)
        } catch {
            problem = "\(error)"
        }
        settlePublished(attempts, published: published, problem: problem)
    }

    /// After a publish: the attempts not published (the store failed, or the run is no
    /// longer this node's) fail to start, as a spawn that failed.
    func settlePublished(_ attempts: [DispatchedAttempt], published: Set<DispatchKey>, problem: String) {
        // This node may claim them back itself when one of its slots frees first.
        if !published.isEmpty { workMayExist = true }
        for attempt in attempts where !published.contains(attempt.key) {
            let ref = TaskRef(runID: attempt.runID, task: attempt.taskIndex)
            remoteAttempts[ref] = nil
            let message = "cannot dispatch the attempt: \(problem)"
            appendToLog(attempt.logPath, "baton: \(message)\n")
            engine.spawnFailed(ref, message: message, now: clock.now())
        }
    }

    /// A stop of an attempt running elsewhere: asked of its node (or withdrawn when none
    /// claimed it yet, which the engine learns as an exit by that signal).
    func signalRemote(_ ref: TaskRef, attempt: Int, _ signal: StopSignal) {
        guard let dispatch = configuration.dispatch else { return }
        let number = signal == .terminate ? SIGTERM : SIGKILL
        let key = DispatchKey(runID: ref.runID, taskIndex: ref.task, attempt: attempt)
        do {
            if try !dispatch.stop(key, signal: number) {
                remoteAttempts[ref] = nil
                engine.processExited(ref, exitCode: nil, signal: number, now: clock.now())
            }
        } catch {
            logger.error(
                "could not stop a task on another node", metadata: ["run": "\(ref.runID)", "error": "\(error)"])
        }
    }

    /// Another node (or the heartbeat) says there may be news: outcomes of this node's
    /// attempts, published work, stop requests. `beat`: the heartbeat's full look, with the
    /// cluster's pool size and the lease past which claimers count as lost.
    func clusterNews(_ news: Set<String>, beat: ClusterBeat?) {
        guard let dispatch = configuration.dispatch else { return }
        let now = clock.now()
        do {
            if let beat {
                lastBeat = beat
                engine.setWorkers(max(configuration.workers, beat.slots), now: now)
                let lost = try dispatch.takeLostAttempts(leaseSeconds: beat.leaseSeconds)
                killLeftovers(of: lost)
                for outcome in lost { apply(outcome, now: now) }
            }
            if beat != nil || news.contains("done") {
                for outcome in try dispatch.takeOutcomes() { apply(outcome, now: now) }
            }
            if beat != nil || news.contains("stops") {
                for (key, signal) in try dispatch.takeStops() {
                    if let pid = foreignPid[key] { reactor.signalGroup(pid: pid, signal) }
                }
            }
            if beat != nil || news.contains("work") { workMayExist = true }
            if beat != nil || news.contains("stops") {
                for key in try dispatch.revokedClaims() { killForeign(key, report: false) }
            }
        } catch {
            logger.error("cluster dispatch failed", metadata: ["error": "\(error)"])
        }
        claimIfFree()
        reportEnded()
    }

    /// Attempts whose node was lost (frozen, cut off) before they ended: whatever of them
    /// still runs on this machine is killed before they run again (a frozen node's
    /// processes are not frozen with it). Nodes on other machines kill theirs when they
    /// come back and find their claims revoked.
    func killLeftovers(of lost: [DispatchOutcome]) {
        let marks = Set(
            lost.compactMap { outcome -> ProcessScan.Marks? in
                guard let tasks = engine.runs[outcome.key.runID]?.spec.tasks,
                    tasks.indices.contains(outcome.key.taskIndex)
                else { return nil }
                let name = tasks[outcome.key.taskIndex].name
                return ProcessScan.Marks(runID: outcome.key.runID, task: name, attempt: outcome.key.attempt)
            })
        let killed = ProcessScan.killProcesses(ofAttempts: marks)
        if killed > 0 {
            logger.warning("killed what a lost node left running on this machine", metadata: ["processes": "\(killed)"])
        }
    }

    /// Feeds the engine how an attempt that ran elsewhere ended.
    func apply(_ outcome: DispatchOutcome, now: Date) {
        let ref = TaskRef(runID: outcome.key.runID, task: outcome.key.taskIndex)
        guard remoteAttempts[ref] == outcome.key.attempt else { return }
        remoteAttempts[ref] = nil
        if let lost = outcome.lost {
            engine.processLost(ref, reason: lost, now: now)
        } else {
            engine.processExited(
                ref, exitCode: outcome.exitCode, signal: outcome.signal, now: now, failure: outcome.failure)
        }
    }

    /// Claims published attempts for the free local slots, and starts them.
    func claimIfFree() {
        guard let dispatch = configuration.dispatch, workMayExist, shutdownReply == nil else { return }
        let free = configuration.workers - localProcessCount
        guard free > 0 else { return }
        let claimed: [DispatchedAttempt]
        do {
            claimed = try dispatch.claim(limit: free)
        } catch {
            logger.error("could not claim work from other nodes", metadata: ["error": "\(error)"])
            return
        }
        if claimed.count < free { workMayExist = false }
        for attempt in claimed { startForeign(attempt) }
        reportEnded()
    }

    func startForeign(_ attempt: DispatchedAttempt) {
        let tag = nextTag
        nextTag += 1
        let environment = TaskEnvironment.compose(
            base: configuration.baseEnvironment,
            plan: SpawnPlanEnvironment(
                runID: attempt.runID, taskName: attempt.taskName, attempt: attempt.attempt, env: attempt.env,
                extra: [:]))
        let request = SpawnRequest(
            tag: tag, argv: attempt.argv, environment: environment, workingDirectory: attempt.cwd,
            logPath: dataDirectoryPath + attempt.logPath, logCapBytes: configuration.logCapBytes)
        do {
            let pid = try reactor.spawn(request)
            foreignOfTag[tag] = attempt.key
            foreignPid[attempt.key] = pid
            let marks = ProcessScan.Marks(runID: attempt.runID, task: attempt.taskName, attempt: attempt.attempt)
            marksOfTag[tag] = marks
            liveAttempts.insert(marks)
            // Its log grows here: this node tells live clients (and relays to the others).
            if observers.onLog != nil { logOfTag[tag] = (attempt.runID, attempt.taskName, attempt.attempt) }
        } catch {
            appendToLog(attempt.logPath, "baton: \(error)\n")
            toReport.append(DispatchOutcome(key: attempt.key, exitCode: 127, signal: nil, failure: "\(error)"))
        }
    }

    /// A foreign process exited (its marks are already dropped): tell the run's owner.
    func foreignExited(tag: UInt64, _ exit: ChildExit) -> Bool {
        guard let key = foreignOfTag.removeValue(forKey: tag) else { return false }
        foreignPid[key] = nil
        if revokedForeign.remove(key) == nil {
            toReport.append(DispatchOutcome(key: key, exitCode: exit.exitCode, signal: exit.signal))
        }
        workMayExist = true
        return true
    }

    /// Kills a foreign attempt's process group. `report: false` when its claim was
    /// withdrawn (nobody wants its outcome any more).
    func killForeign(_ key: DispatchKey, report: Bool) {
        guard let pid = foreignPid[key] else { return }
        if !report {
            revokedForeign.insert(key)
            logger.warning(
                "stopping a task this node no longer holds",
                metadata: ["run": "\(key.runID)", "task": "\(key.taskIndex)", "attempt": "\(key.attempt)"])
        }
        reactor.signalGroup(pid: pid, SIGKILL)
    }

    /// Reports the foreign attempts that ended this round (one statement).
    /// A report that fails (the database is away) is kept and sent again with the next
    /// ones, at the latest on the next heartbeat: the owner must hear of every end.
    func reportEnded() {
        guard !toReport.isEmpty else { return }
        do {
            try configuration.dispatch?.finish(toReport)
            toReport.removeAll()
        } catch {
            logger.error(
                "could not report tasks' ends to their runs' nodes; retrying",
                metadata: ["count": "\(toReport.count)", "error": "\(error)"])
        }
    }

    /// Shutdown: the foreign attempts are killed and reported lost, so that their owners
    /// restart them (or fail them) at once instead of after this node's lease.
    func stopForeignForShutdown() {
        guard !foreignOfTag.isEmpty else { return }
        let reason = "interrupted: node \(configuration.nodeName) stopped"
        for (tag, key) in foreignOfTag {
            if let pid = foreignPid[key] { reactor.signalGroup(pid: pid, SIGKILL) }
            foreignOfTag[tag] = nil
            toReport.append(DispatchOutcome(key: key, exitCode: nil, signal: SIGKILL, lost: reason))
        }
        foreignPid.removeAll()
        reportEnded()
    }
}
