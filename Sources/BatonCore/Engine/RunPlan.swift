/// Index-based form of a validated spec, built once per run so that scheduling never looks
/// a name up or rescans the graph: every event touches only the tasks it concerns.
struct RunPlan: Sendable {
    /// Sentinel group index of ungrouped tasks.
    let ungrouped: Int
    /// Per task: index of its group, or `ungrouped`.
    let groupOf: [Int]
    /// Per task: distinct dependencies (indices).
    let dependencies: [[Int32]]
    /// Per task: tasks that list it in `depends_on`.
    let dependents: [[Int32]]
    /// Per task: the next task of its sequential group (an ordering edge, satisfied by any
    /// outcome, so that `waitall` goes on with the next task), or -1.
    let sequentialNext: [Int32]
    /// Per task: whether it follows a task of its sequential group.
    let hasSequentialPrevious: [Bool]
    /// Per group: its tasks in spec order.
    let groupTasks: [[Int32]]
    /// Per group (and the ungrouped pseudo-group): its concurrency limit.
    let groupLimit: [Int?]
    /// Per group: whether it is a `runalways` stage; false for the ungrouped pseudo-group.
    let groupRunsAlways: [Bool]
    /// Per task: the mode that applies when it fails (critical tasks are `failfast`).
    let failureMode: [FailureMode]

    init(spec: WorkflowSpec) {
        let taskCount = spec.tasks.count
        var groupIndex: [String: Int] = [:]
        for (index, group) in spec.groups.enumerated() { groupIndex[group.name] = index }
        var taskIndex: [String: Int] = [:]
        taskIndex.reserveCapacity(taskCount)
        for (index, task) in spec.tasks.enumerated() { taskIndex[task.name] = index }

        ungrouped = spec.groups.count
        var groupOf = [Int](repeating: spec.groups.count, count: taskCount)
        var groupTasks = [[Int32]](repeating: [], count: spec.groups.count + 1)
        var dependencies = [[Int32]](repeating: [], count: taskCount)
        var dependents = [[Int32]](repeating: [], count: taskCount)
        var failureMode = [FailureMode](repeating: spec.mode, count: taskCount)
        for (index, task) in spec.tasks.enumerated() {
            let group = task.group.flatMap { groupIndex[$0] } ?? spec.groups.count
            groupOf[index] = group
            groupTasks[group].append(Int32(index))
            var seen = Set<Int32>()
            for name in task.dependsOn {
                guard let dependency = taskIndex[name] else { continue }
                let dep = Int32(dependency)
                if seen.insert(dep).inserted {
                    dependencies[index].append(dep)
                    dependents[dependency].append(Int32(index))
                }
            }
            if task.critical {
                failureMode[index] = .failfast
            } else if group < spec.groups.count, let mode = spec.groups[group].mode {
                failureMode[index] = mode
            }
        }
        var sequentialNext = [Int32](repeating: -1, count: taskCount)
        var hasSequentialPrevious = [Bool](repeating: false, count: taskCount)
        for (index, group) in spec.groups.enumerated() where group.strategy == .sequential {
            let members = groupTasks[index]
            for position in members.indices.dropLast() {
                sequentialNext[Int(members[position])] = members[position + 1]
                hasSequentialPrevious[Int(members[position + 1])] = true
            }
        }
        self.groupOf = groupOf
        self.groupTasks = groupTasks
        self.dependencies = dependencies
        self.dependents = dependents
        self.sequentialNext = sequentialNext
        self.hasSequentialPrevious = hasSequentialPrevious
        self.failureMode = failureMode
        self.groupLimit =
            spec.groups.map { $0.strategy == .sequential ? 1 : $0.maxParallel } + [nil]
        self.groupRunsAlways = spec.groups.map { $0.mode == .runalways } + [false]
    }
}
