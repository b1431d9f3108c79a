import Foundation

/// Which tasks a retry of a finished run executes again (SPEC §4 `POST /v1/runs/{id}/retry`):
/// every task that did not succeed, and everything after them — their dependents, the
/// rest of their sequential group, and every task of later groups (groups run in order, so
/// a later group comes after). Succeeded tasks before them are kept.
public enum RetryPlan {
    /// The task rows a retry run starts with: kept successes copied from `original`, the
    /// rest fresh and pending.
    public static func initialTasks(
        spec: WorkflowSpec, original: [TaskRecord], originalRunID: String
    ) -> [TaskRecord] {
        let rerun = tasksToRerun(spec: spec, statuses: original.map(\.status))
        return spec.tasks.enumerated().map { index, task in
            if !rerun.contains(index), index < original.count {
                var kept = original[index]
                kept.pgid = nil
                kept.retryAt = nil
                kept.reason = "kept from run \(originalRunID)"
                return kept
            }
            return TaskRecord(index: index, name: task.name, group: task.group)
        }
    }

    /// Indices of the tasks to execute again.
    public static func tasksToRerun(spec: WorkflowSpec, statuses: [TaskStatus]) -> Set<Int> {
        let plan = RunPlan(spec: spec)
        var rerun = Set<Int>()
        var work: [Int] = []
        for index in spec.tasks.indices where index >= statuses.count || statuses[index] != .succeeded {
            rerun.insert(index)
            work.append(index)
        }
        var earliestGroup = plan.ungrouped
        while let index = work.popLast() {
            let group = plan.groupOf[index]
            if group != plan.ungrouped { earliestGroup = min(earliestGroup, group) }
            var next = plan.dependents[index].map(Int.init)
            if plan.sequentialNext[index] >= 0 { next.append(Int(plan.sequentialNext[index])) }
            for target in next where rerun.insert(target).inserted { work.append(target) }
        }
        // Every task of a group after the earliest group with a task to re-run.
        if earliestGroup < plan.ungrouped {
            var added: [Int] = []
            for group in (earliestGroup + 1)..<plan.ungrouped {
                for member in plan.groupTasks[group] where rerun.insert(Int(member)).inserted {
                    added.append(Int(member))
                }
            }
            // Their dependents (possibly ungrouped) come after them too.
            work = added
            while let index = work.popLast() {
                var next = plan.dependents[index].map(Int.init)
                if plan.sequentialNext[index] >= 0 { next.append(Int(plan.sequentialNext[index])) }
                for target in next where rerun.insert(target).inserted { work.append(target) }
            }
        }
        return rerun
    }
}
