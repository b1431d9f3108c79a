import BatonCore

/// What the event pump knows of a run in flight: its tasks' statuses (to keep counts per
/// status without asking the store) and its trigger (a metrics label).
struct RunTally {
    var trigger: String
    var status: RunStatus
    private var statuses: [TaskStatus]
    private(set) var counts: [TaskStatus: Int]

    init(record: RunRecord, taskCount: Int, tasks: [TaskRecord]?) {
        trigger = record.trigger.typeName
        status = record.status
        statuses = tasks?.map(\.status) ?? [TaskStatus](repeating: .pending, count: taskCount)
        counts = [:]
        for status in statuses { counts[status, default: 0] += 1 }
    }

    var countsByName: [String: Int] {
        Dictionary(uniqueKeysWithValues: TaskStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
    }

    /// Notes a task's new row; returns whether the task just ended.
    mutating func record(_ task: TaskRecord) -> Bool {
        guard task.index >= 0 && task.index < statuses.count else { return false }
        let before = statuses[task.index]
        guard before != task.status else { return false }
        statuses[task.index] = task.status
        counts[before, default: 0] -= 1
        counts[task.status, default: 0] += 1
        return task.status.isTerminal && !before.isTerminal
    }
}

/// The tallies of every run in flight.
struct RunTallies {
    var runs: [String: RunTally] = [:]

    /// A run the pump has not seen created (resumed at start): read once from the store.
    mutating func load(_ runID: String, from store: any RunStore) {
        guard let record = try? store.run(id: runID), let tasks = try? store.tasks(runID: runID) else { return }
        runs[runID] = RunTally(record: record, taskCount: tasks.count, tasks: tasks)
    }
}
