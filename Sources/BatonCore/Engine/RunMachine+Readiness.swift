import Foundation

extension RunMachine {
    /// Whether a task may start now (limits aside).
    func isStartable(_ index: Int) -> Bool {
        guard tasks[index].status == .pending, tasks[index].retryAt == nil, unmet[index] == 0
        else { return false }
        guard isGroupOpen(plan.groupOf[index]) else { return false }
        return halt == nil || runsAlways(index)
    }

    func isGroupOpen(_ group: Int) -> Bool {
        group == plan.ungrouped || group <= gate
    }

    /// Queues the task if it can start now.
    mutating func tryEnqueue(_ index: Int) {
        guard !restoring, status == .running, !queued[index], isStartable(index) else { return }
        queued[index] = true
        readyAt[index] = eventTime
        readyCount += 1
        readyQueues[plan.groupOf[index]].append(Int32(index))
    }

    /// Opens the next groups once the ones before them have ended (SPEC §2: groups run in
    /// the order listed).
    mutating func advanceGate() {
        let groupCount = plan.ungrouped
        while gate < groupCount && groupRemaining[gate] == 0 {
            gate += 1
            if gate < groupCount {
                for member in plan.groupTasks[gate] { tryEnqueue(Int(member)) }
            }
        }
    }

    /// Queues every startable task of the open groups and the ungrouped tasks.
    mutating func enqueueOpenTasks() {
        for group in 0...plan.ungrouped where isGroupOpen(group) {
            for member in plan.groupTasks[group] { tryEnqueue(Int(member)) }
        }
    }
}
