/// Finds deadlocks that group order creates with dependencies through ungrouped tasks:
/// `a` (group 1) depends on ungrouped `u`, which depends on `b` (group 2); but `b` waits
/// for group 1 to end, so nothing can start.
///
/// The order is modelled with one extra node per group, "group g has ended", that waits
/// for the group's tasks and the previous group; each grouped task waits for the previous
/// group's node, and in a sequential group for the task listed before it. Any cycle then
/// contains a `depends_on` edge, where it is reported.
struct GroupOrderCheck {
    let checker: SpecChecker
    let dependencies: SpecGraph
    let taskGroup: [Int]

    func run() {
        let spec = checker.spec
        let taskCount = spec.tasks.count
        let groupCount = spec.groups.count
        var members = [[Int]](repeating: [], count: groupCount)
        for (task, group) in taskGroup.enumerated() where group >= 0 {
            members[group].append(task)
        }
        var previousInSequence = [Int](repeating: -1, count: taskCount)
        for (group, tasks) in members.enumerated() where spec.groups[group].strategy == .sequential {
            for position in tasks.indices.dropFirst() {
                previousInSequence[tasks[position]] = tasks[position - 1]
            }
        }

        var graph = SpecGraph()
        graph.reserve(nodes: taskCount + groupCount, edges: dependencies.targets.count + 3 * taskCount + groupCount)
        for task in 0..<taskCount {
            for edge in dependencies.edges(of: task) {
                graph.addEdge(to: dependencies.targets[edge], slot: dependencies.slots[edge])
            }
            if taskGroup[task] > 0 { graph.addEdge(to: taskCount + taskGroup[task] - 1, slot: -1) }
            if previousInSequence[task] >= 0 { graph.addEdge(to: previousInSequence[task], slot: -1) }
            graph.finishNode()
        }
        for group in 0..<groupCount {
            for task in members[group] { graph.addEdge(to: task, slot: -1) }
            if group > 0 { graph.addEdge(to: taskCount + group - 1, slot: -1) }
            graph.finishNode()
        }

        for component in graph.cyclicComponents() {
            report(component, in: graph)
        }
    }

    private func report(_ component: [Int], in graph: SpecGraph) {
        let spec = checker.spec
        let taskCount = spec.tasks.count
        let inComponent = Set(component)
        var cycle = graph.cycle(through: component[0], within: inComponent.contains)
        // Start the listing at a `depends_on` edge, the one the user can change.
        let explicit = cycle.indices.first { position in
            cycle[position] < taskCount
                && graph.slot(from: cycle[position], to: cycle[(position + 1) % cycle.count]) >= 0
        }
        guard let explicit else { return }  // impossible: implied edges alone form no cycle
        cycle = Array(cycle[explicit...] + cycle[..<explicit])
        let slot = graph.slot(from: cycle[0], to: cycle[1 % cycle.count])
        let names = (cycle + [cycle[0]]).map { node in
            node < taskCount ? spec.tasks[node].name : "[group \(spec.groups[node - taskCount].name)]"
        }
        checker.fail(
            checker.taskPath(cycle[0]).key("depends_on").index(slot),
            "deadlock through group order: \(names.joined(separator: " -> "))")
    }
}
