import BatonCore
import Foundation
import Glibc

extension ExecutorLoop {
    /// SPEC §3: kill what the previous process left behind, then hand every unfinished
    /// run back to the engine, which restarts or fails its interrupted tasks.
    func resumeUnfinishedRuns(now: Date, accept: (RunRecord) -> Bool) throws {
        try resume(try store.unfinishedRuns().filter(accept), interruption: "interrupted by server restart", now: now)
    }

    /// Hands `unfinished` runs to the engine, which restarts or fails their interrupted
    /// tasks with the reason `interruption` (a restart of this server, or a lost node whose
    /// runs this node took over).
    func resume(_ unfinished: [RunRecord], interruption: String, now: Date) throws {
        // What the previous server left running of these runs, found by the marks in the
        // processes' environment: never by a recorded pid alone, which may belong to a
        // stranger by now (the task ended while the server was down and the id was reused).
        let killed = ProcessScan.killProcesses(ofRuns: Set(unfinished.map(\.id)))
        // Cluster mode: attempts these runs had published are withdrawn (their claimers stop
        // them); the restore below restarts or fails them like local ones.
        do {
            try configuration.dispatch?.withdraw(runIDs: unfinished.map(\.id))
        } catch {
            logger.error("could not withdraw the dispatched attempts of resumed runs", metadata: ["error": "\(error)"])
        }
        if killed > 0 { logger.info("killed processes left by the previous server", metadata: ["count": "\(killed)"]) }
        for record in unfinished where engine.runs[record.id] == nil {
            let tasks = try store.tasks(runID: record.id)
            var attemptStarts: [Int: Date] = [:]
            for task in tasks where task.status == .running {
                if let last = try store.attempts(runID: record.id, taskIndex: task.index).last {
                    attemptStarts[task.index] = last.startedAt
                }
            }
            let spec: WorkflowSpec
            do {
                spec = try configuration.decodeSpec(record.specJSON)
            } catch {
                logger.error(
                    "cannot resume run: its stored spec no longer parses; ending it failed",
                    metadata: ["run": "\(record.id)", "error": "\(error)"])
                endUnresumable(record, tasks: tasks, now: now)
                continue
            }
            logger.info("resuming run", metadata: ["run": "\(record.id)"])
            let machine = RunMachine(
                record: record, spec: spec, tasks: tasks, attemptStarts: attemptStarts, interruption: interruption,
                now: now)
            engine.add(machine, now: now)
        }
        settle()
    }

    /// A run that cannot be resumed still must not stay `running` forever (SPEC §3): its
    /// unfinished tasks and the run end `failed`.
    func endUnresumable(_ record: RunRecord, tasks: [TaskRecord], now: Date) {
        var batch = StoreBatch()
        batch.runs.append(
            RunUpdate(
                id: record.id, status: .failed, startedAt: record.startedAt ?? now, finishedAt: now,
                cancelRequests: record.cancelRequests, deadlineHit: record.deadlineHit))
        for var task in tasks where !task.status.isTerminal {
            task.status = .failed
            task.reason = "cannot resume: the stored spec no longer parses"
            task.finishedAt = now
            task.pgid = nil
            batch.tasks.append((record.id, task))
        }
        do {
            try store.apply(clock.wallTimes(batch))
        } catch {
            logger.error("could not record the run as failed", metadata: ["run": "\(record.id)", "error": "\(error)"])
        }
    }

    /// Server shutdown: SIGTERM every task group, SIGKILL what is left after the grace,
    /// reap everything, and leave the tasks recorded as interrupted so the next start
    /// resumes them (SPEC §3) — a shutdown must not turn into failures.
    func stopAllForShutdown() {
        // Whatever waited for a commit first (the rounds' changes of ``flushOrWait()``).
        flush()
        stopForeignForShutdown()
        guard !pidOf.isEmpty else { return }
        logger.info("stopping tasks for shutdown", metadata: ["count": "\(pidOf.count)"])
        // Each task gets its run's kill_grace_seconds (capped by the server's own bound).
        let start = clock.now()
        var killAt: [UInt64: Date] = [:]
        for (tag, ref) in tagToRef {
            guard let pid = pidOf[ref] else { continue }
            reactor.signalGroup(pid: pid, SIGTERM)
            let grace = min(engine.runs[ref.runID]?.spec.killGraceSeconds ?? 10, configuration.shutdownGraceSeconds)
            killAt[tag] = start.addingTimeInterval(grace)
        }
        while !tagToRef.isEmpty {
            let now = clock.now()
            for (tag, due) in killAt where due <= now {
                if let ref = tagToRef[tag], let pid = pidOf[ref] { reactor.signalGroup(pid: pid, SIGKILL) }
                killAt[tag] = nil
            }
            let next = killAt.values.min() ?? now.addingTimeInterval(1)
            for exit in reactor.poll(until: clock.wall(next)) {
                tagToRef[exit.tag] = nil
                killAt[exit.tag] = nil
            }
        }
        var batch = StoreBatch()
        for ref in pidOf.keys {
            guard var task = engine.runs[ref.runID]?.taskRecords[ref.task] else { continue }
            task.pgid = nil
            task.reason = "interrupted by server shutdown"
            batch.tasks.append((ref.runID, task))
        }
        pidOf.removeAll()
        do {
            try store.apply(clock.wallTimes(batch))
        } catch {
            logger.error("could not record the shutdown", metadata: ["error": "\(error)"])
        }
    }
}
