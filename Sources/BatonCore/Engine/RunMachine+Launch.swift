import Foundation

extension RunMachine {
    /// Starts a new attempt of a task.
    mutating func launch(_ index: Int, now: Date) {
        let task = spec.tasks[index]
        tasks[index].attempt += 1
        tasks[index].status = .running
        tasks[index].reason = nil
        tasks[index].exitCode = nil
        tasks[index].signal = nil
        tasks[index].retryAt = nil
        tasks[index].finishedAt = nil
        if tasks[index].startedAt == nil { tasks[index].startedAt = now }
        markDirty(index)
        phase[index] = .main
        stopCause[index] = nil
        generation[index] &+= 1
        attemptStart[index] = now
        alive += 1
        if !task.forever {
            runningCount += 1
            groupRunning[plan.groupOf[index]] += 1
        }
        // A forever task is a service meant to outlive `timeout_seconds` (300 by default):
        // killing it for its timeout would fail runs whose other tasks simply take longer.
        // The end of the run, a failure mode, a cancel or the run deadline stop it instead.
        if task.timeoutSeconds > 0 && !task.forever {
            timers.push(
                TaskTimer(
                    at: now.addingTimeInterval(task.timeoutSeconds), task: Int32(index),
                    kind: .deadline, generation: generation[index]))
        }
        let logPath = LogLayout.relativePath(
            runID: runID, taskIndex: index, attempt: tasks[index].attempt)
        attemptUpdates.append(
            AttemptRecord(
                runID: runID, taskIndex: index, attempt: tasks[index].attempt, startedAt: now,
                logPath: logPath, queuedAt: readyAt[index] ?? now))
        actions.append(.spawn(spawnPlan(index, command: task.command, hook: false)))
        if task.forever && !released[index] {
            // The run does not wait for a forever task: it counts as done for its
            // dependents and its group as soon as it runs.
            released[index] = true
            release(index, succeeded: true, now: now)
        }
    }

    /// Runs the `on_timeout` hook of a task whose command was killed for its timeout.
    mutating func startHook(_ index: Int, command: CommandLine, now: Date) {
        phase[index] = .hook
        generation[index] &+= 1
        alive += 1
        timers.push(
            TaskTimer(
                at: now.addingTimeInterval(60), task: Int32(index), kind: .deadline,
                generation: generation[index]))
        actions.append(.spawn(spawnPlan(index, command: command, hook: true)))
    }

    func spawnPlan(_ index: Int, command: CommandLine, hook: Bool) -> SpawnPlan {
        let task = spec.tasks[index]
        var env = spec.env
        for (key, value) in task.env { env[key] = value }
        // Variables Baton itself put in the run's env (BATON_WEBHOOK_PAYLOAD, …) win over a
        // task's own, like BATON_RUN_ID and friends (SPEC §1 precedence).
        for (key, value) in spec.env where key.hasPrefix("BATON_WEBHOOK_") { env[key] = value }
        var runsOn = spec.runsOn
        for (key, value) in task.runsOn { runsOn[key] = value }
        return SpawnPlan(
            ref: ref(index), taskName: task.name, attempt: tasks[index].attempt, command: command,
            env: env, cwd: task.cwd,
            logPath: LogLayout.relativePath(
                runID: runID, taskIndex: index, attempt: tasks[index].attempt),
            isTimeoutHook: hook, ssh: hook ? nil : task.ssh, killGraceSeconds: spec.killGraceSeconds,
            subWorkflow: hook ? nil : task.subWorkflow, attemptStartedAt: attemptStart[index], runsOn: runsOn,
            restartable: task.restartable)
    }

    /// SIGTERM to the task's group now, SIGKILL after the grace (the sequence always ends
    /// in SIGKILL).
    mutating func sendStop(_ index: Int, now: Date) {
        actions.append(.signal(ref(index), .terminate))
        let grace = spec.killGraceSeconds
        if grace <= 0 {
            actions.append(.signal(ref(index), .kill))
        } else {
            timers.push(
                TaskTimer(
                    at: now.addingTimeInterval(grace), task: Int32(index), kind: .kill,
                    generation: generation[index]))
        }
    }

    /// Stops a running task for `cause` unless it is already being stopped.
    mutating func stop(_ index: Int, cause: StopCause, now: Date) {
        guard phase[index] != .idle else { return }
        if phase[index] == .main && stopCause[index] != nil { return }
        if phase[index] == .main { stopCause[index] = cause }
        sendStop(index, now: now)
    }
}
