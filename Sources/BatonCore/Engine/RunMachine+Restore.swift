import Foundation

extension RunMachine {
    /// Rebuilds the counters from persisted task rows after a crash (SPEC §3): finished
    /// tasks keep their results, interrupted ones restart when `restartable` (else they
    /// fail), and the failure modes, cancel and deadline that were in force apply again.
    mutating func restore(attemptStarts: [Int: Date], interruption: String, now: Date) {
        restoring = true
        if let started = startedAt, let seconds = spec.timeoutSeconds {
            runDeadline = started.addingTimeInterval(seconds)
        }
        if let deadline = runDeadline, !deadlineHit, deadline <= now, !status.isTerminal {
            // The deadline passed while no server was running: apply it before anything is
            // restarted, rather than respawn interrupted tasks only to kill them at the
            // first tick.
            deadlineHit = true
            runDirty = true
        }
        var interruptedFailures: [Int] = []
        var reattached: [(index: Int, started: Date)] = []
        for index in tasks.indices where tasks[index].status == .running {
            let attempt = tasks[index].attempt
            let started = attemptStarts[index] ?? tasks[index].startedAt ?? now
            // A task that runs a workflow was not interrupted: its child run is resumed too,
            // and the same attempt finds it again (the executor names it the same way).
            if spec.tasks[index].subWorkflow != nil {
                reattached.append((index, started))
                continue
            }
            let restart = spec.tasks[index].restartable
            attemptUpdates.append(
                AttemptRecord(
                    runID: runID, taskIndex: index, attempt: attempt, startedAt: started,
                    finishedAt: now, status: restart ? .cancelled : .failed,
                    logPath: LogLayout.relativePath(runID: runID, taskIndex: index, attempt: attempt)))
            tasks[index].pgid = nil
            markDirty(index)
            if restart {
                tasks[index].status = .pending
                tasks[index].reason = interruption + "; restarting"
            } else {
                tasks[index].failures += 1
                interruptedFailures.append(index)
            }
        }
        // Replay the finished tasks: counters, gates and dependents, as if they had just
        // ended (without re-running failure modes yet).
        let finished = tasks.indices.filter { tasks[$0].status.isTerminal }
        for index in finished {
            if !spec.tasks[index].forever { unfinished -= 1 }
            if tasks[index].status == .failed || tasks[index].status == .timedOut {
                rootFailure[index] = spec.tasks[index].name
            }
            released[index] = true
            release(index, succeeded: tasks[index].status == .succeeded, now: now)
        }
        for index in tasks.indices where tasks[index].status == .pending {
            if let due = tasks[index].retryAt {
                timers.push(
                    TaskTimer(at: due, task: Int32(index), kind: .retry, generation: generation[index]))
            }
        }
        advanceGate()
        restoring = false
        for (index, started) in reattached { reattach(index, startedAt: started) }
        guard !status.isTerminal else { return }
        if status == .queued { return }
        if cancelRequests > 0 { applyHalt(.cancel, now: now) }
        if cancelRequests > 1 {
            haltAlways = true
            stopEverything(now: now)
        }
        if deadlineHit { applyHalt(.runTimeout, now: now) }
        for index in finished
        where tasks[index].status == .failed || tasks[index].status == .timedOut {
            fail(index, now: now)
        }
        for index in interruptedFailures {
            settle(index, status: .failed, reason: interruption, now: now)
            fail(index, now: now)
        }
        enqueueOpenTasks()
        checkRunEnd(now: now)
    }

    /// Takes up again the running attempt of a task that runs a workflow (see `restore`):
    /// the counters and the deadline of a launch, without a new attempt.
    mutating func reattach(_ index: Int, startedAt: Date) {
        let task = spec.tasks[index]
        phase[index] = .main
        stopCause[index] = nil
        generation[index] &+= 1
        attemptStart[index] = startedAt
        alive += 1
        runningCount += 1
        groupRunning[plan.groupOf[index]] += 1
        if task.timeoutSeconds > 0 {
            timers.push(
                TaskTimer(
                    at: startedAt.addingTimeInterval(task.timeoutSeconds), task: Int32(index), kind: .deadline,
                    generation: generation[index]))
        }
        actions.append(.spawn(spawnPlan(index, command: task.command, hook: false)))
    }
}
