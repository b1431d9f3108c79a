import BatonCore
import Foundation

/// Tasks that run a workflow (seed 003's `SchedulerJob`): the child is a run of its own,
/// created here, in the store and in the engine, when the task's attempt starts; the task
/// ends with the child's outcome.
///
/// The child's id is derived from the parent run, task and attempt (and the attempt's start
/// for the time part), so after a restart the resumed parent attempt finds the very same
/// child (resumed too, or already ended) instead of starting another.
extension ExecutorLoop {
    func startChildRun(_ plan: SpawnPlan, _ sub: SubWorkflow) {
        let now = clock.now()
        guard var spec = sub.spec else {
            engine.spawnFailed(plan.ref, message: "workflow \"\(sub.name ?? "?")\" was not resolved", now: now)
            return
        }
        let childID = RunID.derived(
            from: "\(plan.ref.runID)/\(plan.ref.task)/\(plan.attempt)", at: plan.attemptStartedAt ?? now)
        childOfTask[plan.ref] = childID
        taskOfChild[childID] = plan.ref
        if let child = engine.runs[childID] {
            // Resumed with its parent: wait for it (or take its outcome if it just ended).
            if child.isFinished { childRunFinished(childID, status: child.status) }
            return
        }
        do {
            if let stored = try store.run(id: childID) {
                // It ended while its parent was not listening (a crash in between).
                childRunFinished(childID, status: stored.status.isTerminal ? stored.status : .failed)
                return
            }
            spec.name = (engine.runs[plan.ref.runID]?.spec.name ?? "run") + "/" + plan.taskName
            // The run's and the task's env go down to the child's tasks.
            for (key, value) in plan.env { spec.env[key] = value }
            spec.killGraceSeconds = plan.killGraceSeconds
            let json = SpecEncoder.encode(spec)
            let record = RunRecord(
                id: childID, name: spec.name,
                trigger: .task(runID: plan.ref.runID, task: plan.taskName, attempt: plan.attempt), createdAt: now,
                specJSON: json, specHash: ContentDigest.hex(json))
            let tasks = spec.tasks.enumerated().map {
                TaskRecord(index: $0.offset, name: $0.element.name, group: $0.element.group)
            }
            try store.insertRun(record, tasks: tasks)
            if let extra = extraEnvironment[plan.ref.runID] { extraEnvironment[childID] = extra }
            appendToLog(plan.logPath, "baton: runs workflow \(spec.name) as run \(childID)\n")
            observers.onRunCreated?(record, spec, tasks)
            logger.info("child run started", metadata: ["run": "\(childID)", "parent": "\(plan.ref.runID)"])
            engine.add(RunMachine(record: record, spec: spec, tasks: tasks, now: now), now: now)
        } catch {
            childOfTask[plan.ref] = nil
            taskOfChild[childID] = nil
            engine.spawnFailed(plan.ref, message: "cannot start the workflow's run: \(error)", now: now)
        }
    }

    /// A run ended; when it is a child, its task ends with its outcome.
    func childRunFinished(_ runID: String, status: RunStatus) {
        guard let ref = taskOfChild.removeValue(forKey: runID) else { return }
        childOfTask[ref] = nil
        let succeeded = status == .succeeded
        engine.processExited(
            ref, exitCode: succeeded ? 0 : 1, signal: nil, now: clock.now(),
            failure: succeeded ? nil : "workflow run \(runID) \(status.rawValue)")
    }

    /// Stopping a task that runs a workflow cancels its child run: the first stop lets the
    /// child's `runalways` cleanup run, the second (after the kill grace) stops that too.
    /// Returns false when `ref` runs no workflow.
    func stopChildRun(of ref: TaskRef) -> Bool {
        guard let childID = childOfTask[ref] else { return false }
        engine.cancel(runID: childID, now: clock.now())
        return true
    }
}
