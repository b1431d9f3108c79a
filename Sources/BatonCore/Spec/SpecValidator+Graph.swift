/// Checks that involve several tasks: unique names, declared groups, dependencies that
/// exist, respect group order, and form no cycle. Linear in tasks plus dependencies:
/// names are looked up in dictionaries, and the graph is checked by `SpecGraph`.
extension SpecChecker {
    func checkGraph() {
        let groupIndex = indexGroups()
        let taskIndex = indexTasks()
        var taskGroup = [Int](repeating: -1, count: spec.tasks.count)
        // Loops read single fields by index: copying whole tasks costs as much as the checks.
        for index in spec.tasks.indices {
            guard let name = spec.tasks[index].group else { continue }
            if let group = groupIndex[name] {
                taskGroup[index] = group
            } else {
                fail(taskPath(index).key(keys.group), "unknown group \(SpecValue.jsonQuoted(name))")
            }
        }
        let (graph, orderProblems) = buildGraph(taskIndex: taskIndex, taskGroup: taskGroup)
        let cycles = reportCycles(in: graph)
        // Group order can close a cycle that no `depends_on` list shows (through an
        // ungrouped task); only worth looking for once the direct problems are fixed.
        if cycles == 0 && !orderProblems && !spec.groups.isEmpty {
            GroupOrderCheck(checker: self, dependencies: graph, taskGroup: taskGroup).run()
        }
    }

    private func indexGroups() -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, group) in spec.groups.enumerated() where !decoded.unnamedGroups.contains(position) {
            if let first = index[group.name] {
                fail(
                    groupPath(position).key(keys.groupName),
                    "duplicate group name \(SpecValue.jsonQuoted(group.name)) (first used by \(groupPath(first)))")
            } else {
                index[group.name] = position
            }
        }
        return index
    }

    private func indexTasks() -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(spec.tasks.count)
        let checkAll = decoded.unnamedTasks.isEmpty
        for position in spec.tasks.indices where checkAll || !decoded.unnamedTasks.contains(position) {
            let name = spec.tasks[position].name
            if let first = index.updateValue(position, forKey: name) {
                index[name] = first  // the first task keeps the name
                fail(
                    taskPath(position).key(keys.taskName),
                    "duplicate task name \(SpecValue.jsonQuoted(name)) (first used by \(taskPath(first)))")
            }
        }
        return index
    }

    /// The dependency graph of the valid edges, reporting the invalid ones; also whether
    /// any edge broke group order.
    private func buildGraph(taskIndex: [String: Int], taskGroup: [Int]) -> (SpecGraph, Bool) {
        var graph = SpecGraph()
        graph.reserve(nodes: spec.tasks.count, edges: spec.tasks.reduce(0) { $0 + $1.dependsOn.count })
        var orderProblems = false
        for index in spec.tasks.indices {
            let names = spec.tasks[index].dependsOn
            var seen: Set<String>? = names.count > 8 ? Set(minimumCapacity: names.count) : nil
            for (slot, name) in names.enumerated() {
                func path() -> SpecPath { taskPath(index).key("depends_on").index(slot) }
                let duplicate = seen != nil ? !seen!.insert(name).inserted : names[..<slot].contains(name)
                if duplicate {
                    fail(path(), "duplicate dependency \(SpecValue.jsonQuoted(name))")
                    continue
                }
                guard let target = taskIndex[name] else {
                    fail(path(), "unknown task \(SpecValue.jsonQuoted(name))")
                    continue
                }
                if target == index {
                    fail(path(), "cannot depend on itself")
                    continue
                }
                let (own, other) = (taskGroup[index], taskGroup[target])
                if own >= 0 && other > own {
                    let later = SpecValue.jsonQuoted(spec.groups[other].name)
                    let current = SpecValue.jsonQuoted(spec.groups[own].name)
                    let quoted = SpecValue.jsonQuoted(name)
                    fail(path(), "\(quoted) belongs to group \(later), which runs after group \(current)")
                    orderProblems = true
                    continue
                }
                if own >= 0 && other == own && target > index && spec.groups[own].strategy == .sequential {
                    let group = SpecValue.jsonQuoted(spec.groups[own].name)
                    fail(path(), "\(SpecValue.jsonQuoted(name)) comes later in sequential group \(group)")
                    orderProblems = true
                    continue
                }
                graph.addEdge(to: target, slot: slot)
            }
            graph.finishNode()
        }
        return (graph, orderProblems)
    }

    /// Reports one cycle per cyclic component, as `a -> b -> c -> a`; returns how many.
    private func reportCycles(in graph: SpecGraph) -> Int {
        let components = graph.cyclicComponents()
        for component in components {
            let members = Set(component)
            let start = component[0]
            let cycle = graph.cycle(through: start, within: members.contains)
            let slot = graph.slot(from: start, to: cycle.count > 1 ? cycle[1] : start)
            let names = (cycle + [start]).map { spec.tasks[$0].name }.joined(separator: " -> ")
            fail(taskPath(start).key("depends_on").index(slot), "dependency cycle: \(names)")
        }
        return components.count
    }
}
