/// The DAG of a run in Graphviz DOT (SPEC §4 `GET /v1/runs/{id}/graph`, seed 003's
/// `export_as_dotfile`): one node per task coloured by status, groups as clusters,
/// dependency edges solid and sequential-order edges dashed.
public enum RunGraph {
    public static func dot(spec: WorkflowSpec, tasks: [TaskRecord]) -> String {
        var lines = [
            "digraph \(quote(spec.name)) {", "  rankdir=LR;",
            "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];",
        ]
        let statusOf = Dictionary(tasks.map { ($0.index, $0.status) }, uniquingKeysWith: { first, _ in first })
        func node(_ index: Int) -> String {
            let task = spec.tasks[index]
            let status = statusOf[index] ?? .pending
            var label = task.name
            if task.critical { label += " ⚠" }
            if task.forever { label += " ∞" }
            return
                "\(quote("t\(index)")) [label=\(quote(label)), fillcolor=\(quote(colour(status))), tooltip=\(quote(status.rawValue))];"
        }
        for (groupIndex, group) in spec.groups.enumerated() {
            lines.append("  subgraph \(quote("cluster_\(groupIndex)")) {")
            var label = "\(group.name) (\(group.strategy.rawValue)"
            if let mode = group.mode { label += ", \(mode.rawValue)" }
            label += ")"
            lines.append("    label=\(quote(label));")
            for (index, task) in spec.tasks.enumerated() where task.group == group.name {
                lines.append("    " + node(index))
            }
            lines.append("  }")
        }
        for (index, task) in spec.tasks.enumerated() where task.group == nil {
            lines.append("  " + node(index))
        }
        var indexOf: [String: Int] = [:]
        for (index, task) in spec.tasks.enumerated() { indexOf[task.name] = index }
        for (index, task) in spec.tasks.enumerated() {
            for dependency in task.dependsOn {
                guard let from = indexOf[dependency] else { continue }
                let style = task.trigger == .allDone ? " [style=bold, label=\"all_done\"]" : ""
                lines.append("  \(quote("t\(from)")) -> \(quote("t\(index)"))\(style);")
            }
        }
        for group in spec.groups where group.strategy == .sequential {
            let members = spec.tasks.indices.filter { spec.tasks[$0].group == group.name }
            for (from, to) in zip(members, members.dropFirst()) {
                lines.append("  \(quote("t\(from)")) -> \(quote("t\(to)")) [style=dashed];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Fill colour per status.
    public static func colour(_ status: TaskStatus) -> String {
        switch status {
        case .pending: return "#eeeeee"
        case .running: return "#87cefa"
        case .succeeded: return "#90ee90"
        case .failed: return "#f08080"
        case .timedOut: return "#ffa07a"
        case .cancelled: return "#dda0dd"
        case .skipped: return "#d3d3d3"
        }
    }

    /// A DOT double-quoted string (escapes backslashes, quotes and newlines).
    static func quote(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": break
            default: escaped.append(character)
            }
        }
        return "\"" + escaped + "\""
    }
}
