import Foundation

extension RunMachine {
    /// Stops starting new work: pending tasks outside `runalways` groups end now; running
    /// ones are stopped or awaited according to the halt (SPEC §2).
    mutating func applyHalt(_ newHalt: Halt, now: Date) {
        let first = halt == nil
        let escalates = newHalt.stopsRunning && !(halt?.stopsRunning ?? false)
        if first { halt = newHalt }
        if first {
            settlePending(status: pendingOutcome(newHalt), reason: pendingReason(newHalt), now: now)
        }
        if first || escalates {
            let cause = stopCause(for: newHalt)
            for index in tasks.indices where phase[index] != .idle && !runsAlways(index) {
                if let cause { stop(index, cause: cause, now: now) }
            }
        }
    }

    /// A second cancel: everything stops, `runalways` groups included.
    mutating func stopEverything(now: Date) {
        settlePending(status: .cancelled, reason: "cancelled by client", now: now)
        for index in tasks.indices where phase[index] != .idle {
            stop(index, cause: .cancel, now: now)
        }
    }

    /// Ends every pending task outside the `runalways` groups with the halt's status and
    /// reason. All are marked before any is released: settling them one by one released
    /// each one's dependents as `skipped: upstream failed: <pending task>` before the halt
    /// reached them (a cancel must leave every pending task `cancelled by client`).
    mutating func settlePending(status: TaskStatus, reason: String, now: Date) {
        var ended: [Int] = []
        for index in tasks.indices where tasks[index].status == .pending && !runsAlways(index) {
            markEnded(index, status: status, reason: reason, now: now)
            ended.append(index)
        }
        for index in ended where !released[index] {
            released[index] = true
            release(index, succeeded: false, now: now)
        }
    }

    func runsAlways(_ index: Int) -> Bool {
        !haltAlways && plan.groupRunsAlways[plan.groupOf[index]]
    }

    func stopCause(for halt: Halt) -> StopCause? {
        switch halt {
        case .failfast(let name): return .failfast(name)
        case .waitcurrent: return nil
        case .cancel: return .cancel
        case .runTimeout: return .runTimeout
        }
    }

    func pendingOutcome(_ halt: Halt) -> TaskStatus {
        if case .cancel = halt { return .cancelled }
        return .skipped
    }

    func pendingReason(_ halt: Halt) -> String {
        switch halt {
        case .failfast(let name), .waitcurrent(let name): return "not started: \(name) failed"
        case .cancel: return "cancelled by client"
        case .runTimeout: return "run timed out"
        }
    }

    /// Ends the run once every non-forever task has ended and no process is left; stops
    /// forever tasks when they are all that remains.
    mutating func checkRunEnd(now: Date) {
        guard status == .running, unfinished == 0 else { return }
        for index in tasks.indices where spec.tasks[index].forever {
            if tasks[index].status == .pending {
                settle(index, status: .skipped, reason: "stopped at end of run", now: now)
            } else if phase[index] == .main {
                stop(index, cause: .endOfRun, now: now)
            }
        }
        guard alive == 0 else { return }
        if cancelRequests > 0 {
            status = .cancelled
        } else if deadlineHit {
            status = .timedOut
        } else if tasks.indices.allSatisfy({
            spec.tasks[$0].forever || tasks[$0].status == .succeeded
        }) {
            status = .succeeded
        } else {
            status = .failed
        }
        finishedAt = now
        runDirty = true
        timers = TimerHeap()
        actions.append(.runFinished(runID: runID, status: status))
    }
}
