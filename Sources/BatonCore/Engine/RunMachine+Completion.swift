import Foundation

extension RunMachine {
    /// The last process of an attempt is gone: decide the attempt's outcome, retry or end
    /// the task.
    mutating func finishAttempt(_ index: Int, failure: String?, now: Date) {
        let task = spec.tasks[index]
        if !task.forever {
            runningCount -= 1
            groupRunning[plan.groupOf[index]] -= 1
        }
        phase[index] = .idle
        generation[index] &+= 1
        let cause = stopCause[index]
        stopCause[index] = nil
        let exitCode = tasks[index].exitCode
        let signal = tasks[index].signal

        let status: TaskStatus
        let reason: String?
        switch cause {
        case .timeout:
            status = .timedOut
            reason = "timeout after \(Self.seconds(task.timeoutSeconds))s"
        case .failfast(let name):
            status = .cancelled
            reason = "stopped: \(name) failed"
        case .cancel:
            status = .cancelled
            reason = "cancelled by client"
        case .runTimeout:
            status = .cancelled
            reason = "run timeout after \(Self.seconds(spec.timeoutSeconds ?? 0))s"
        case .endOfRun:
            status = .cancelled
            reason = "stopped at end of run"
        case .lost(let why):
            // A restart (below) cancels this attempt; a halted run does not start it again.
            let restarts = task.restartable && halt == nil
            status = restarts || halt != nil ? .cancelled : .failed
            reason = restarts ? why + "; restarting" : why
        case nil:
            if failure == nil && exitCode == 0 && signal == nil {
                status = .succeeded
                reason = nil
            } else {
                status = .failed
                if let failure {
                    reason = failure
                } else if let signal {
                    reason = "killed by signal \(signal)"
                } else {
                    reason = "exit code \(exitCode ?? -1)"
                }
            }
        }
        if let started = attemptStart[index] {
            attemptUpdates.append(
                AttemptRecord(
                    runID: runID, taskIndex: index, attempt: tasks[index].attempt,
                    startedAt: started, finishedAt: now, exitCode: exitCode, signal: signal,
                    status: status,
                    logPath: LogLayout.relativePath(
                        runID: runID, taskIndex: index, attempt: tasks[index].attempt),
                    queuedAt: readyAt[index]))
        }
        attemptStart[index] = nil

        var lost = false
        if case .lost = cause { lost = true }
        if lost && task.restartable && halt == nil {
            tasks[index].status = .pending
            tasks[index].reason = reason
            markDirty(index)
            tryEnqueue(index)
            checkRunEnd(now: now)
            return
        }
        if status == .failed || status == .timedOut {
            tasks[index].failures += 1
            if !lost, let delay = retryDelay(index, status: status, exitCode: exitCode) {
                scheduleRetry(index, delay: delay, after: reason ?? "failed", now: now)
                checkRunEnd(now: now)
                return
            }
        }
        settle(index, status: status, reason: reason, now: now)
        if status == .failed || status == .timedOut {
            fail(index, now: now)
        }
        checkRunEnd(now: now)
    }

    /// The delay before the next attempt, or nil when the task must not be retried.
    func retryDelay(_ index: Int, status: TaskStatus, exitCode: Int32?) -> Double? {
        let task = spec.tasks[index]
        guard tasks[index].failures <= task.retries else { return nil }
        if !task.retryExitCodes.isEmpty {
            // Only the listed exit codes are recoverable; a timeout has no exit code.
            guard status == .failed, let exitCode, task.retryExitCodes.contains(exitCode) else {
                return nil
            }
        }
        // A halted run starts nothing new outside its `runalways` groups.
        if halt != nil && !runsAlways(index) { return nil }
        var delay = task.retryDelaySeconds
        if task.retryBackoff == .exponential {
            delay *= pow(2, Double(tasks[index].failures - 1))
        }
        return min(delay, task.retryMaxDelaySeconds)
    }

    mutating func scheduleRetry(_ index: Int, delay: Double, after reason: String, now: Date) {
        tasks[index].status = .pending
        tasks[index].reason =
            "attempt \(tasks[index].attempt) failed (\(reason)); retry in \(Self.seconds(delay))s"
        markDirty(index)
        if delay <= 0 {
            tryEnqueue(index)
        } else {
            let due = now.addingTimeInterval(delay)
            tasks[index].retryAt = due
            timers.push(
                TaskTimer(at: due, task: Int32(index), kind: .retry, generation: generation[index]))
        }
    }

    /// A task has failed for good: apply its mode (SPEC §2).
    mutating func fail(_ index: Int, now: Date) {
        let name = spec.tasks[index].name
        switch plan.failureMode[index] {
        case .failfast: applyHalt(.failfast(name), now: now)
        case .waitcurrent: applyHalt(.waitcurrent(name), now: now)
        case .waitall, .runalways: break  // dependents were skipped by `settle`
        }
    }

    /// Ends a task for good and propagates: its dependents, its group, the run.
    mutating func settle(_ index: Int, status: TaskStatus, reason: String?, now: Date) {
        guard !tasks[index].status.isTerminal else { return }
        if queued[index] {
            // Left in its queue; `startNext` drops it because it is no longer startable.
            queued[index] = false
        }
        tasks[index].status = status
        tasks[index].reason = reason
        tasks[index].finishedAt = now
        tasks[index].retryAt = nil
        markDirty(index)
        if status == .failed || status == .timedOut {
            rootFailure[index] = spec.tasks[index].name
        }
        if !spec.tasks[index].forever { unfinished -= 1 }
        if !released[index] {
            released[index] = true
            release(index, succeeded: status == .succeeded, now: now)
        }
    }

    /// A task no longer holds back its dependents, its sequential successor and its group.
    /// Skips cascade through an explicit worklist: a 100,000-task chain must not recurse.
    mutating func release(_ first: Int, succeeded firstSucceeded: Bool, now: Date) {
        var work: [(Int, Bool)] = [(first, firstSucceeded)]
        while let (index, succeeded) = work.popLast() {
            let group = plan.groupOf[index]
            if group != plan.ungrouped {
                groupRemaining[group] -= 1
                if group == gate && groupRemaining[group] == 0 { advanceGate() }
            }
            for dependent in plan.dependents[index] {
                let target = Int(dependent)
                guard !tasks[target].status.isTerminal else { continue }
                if !succeeded && spec.tasks[target].trigger == .allSuccess {
                    let root = rootFailure[index] ?? spec.tasks[index].name
                    rootFailure[target] = root
                    markSkipped(target, reason: "upstream failed: \(root)", now: now)
                    if !released[target] {
                        released[target] = true
                        work.append((target, false))
                    }
                } else {
                    unmet[target] -= 1
                    if unmet[target] == 0 { tryEnqueue(target) }
                }
            }
            passSequentialTurn(index)
        }
    }

    /// Hands a sequential group's turn on from `first` once it has ended and its own turn
    /// has come. A task skipped early (its upstream failed while an earlier task of the
    /// group still ran) must not release its successor before that earlier task ended, or
    /// the group would no longer run in the order listed; the turn skips over it when it
    /// arrives instead.
    mutating func passSequentialTurn(_ first: Int) {
        var current = first
        while sequentialTurn[current] && released[current] && !sequentialTurnPassed[current] {
            sequentialTurnPassed[current] = true
            let next = Int(plan.sequentialNext[current])
            guard next >= 0 else { return }
            sequentialTurn[next] = true
            if !tasks[next].status.isTerminal {
                unmet[next] -= 1
                if unmet[next] == 0 { tryEnqueue(next) }
            }
            current = next
        }
    }

    /// Marks a pending task skipped without propagating (the caller propagates).
    mutating func markSkipped(_ index: Int, reason: String, now: Date) {
        markEnded(index, status: .skipped, reason: reason, now: now)
    }

    /// Ends a pending task without propagating (the caller propagates).
    mutating func markEnded(_ index: Int, status: TaskStatus, reason: String, now: Date) {
        queued[index] = false
        tasks[index].status = status
        tasks[index].reason = reason
        tasks[index].finishedAt = now
        tasks[index].retryAt = nil
        markDirty(index)
        if !spec.tasks[index].forever { unfinished -= 1 }
    }

    /// Renders seconds as `300` or `0.5`.
    static func seconds(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
