/// A layered left-to-right layout of a run's DAG for the console (SPEC §4 extension
/// `GET /v1/runs/{id}/graph.svg`): layers by longest path from the sources, order within
/// a layer by the mean position of the predecessors (one barycentre sweep: linear time,
/// good enough to read, unlike optimal crossing reduction, which is what makes the
/// JavaScript layout libraries slow on big graphs).
///
/// Above a threshold the tasks are folded: one node per group, or per layer for ungrouped
/// tasks, each with its counts per status.
public struct GraphLayout: Sendable {
    public struct Node: Sendable {
        /// The task index, or nil for a folded node.
        public var task: Int?
        public var label: String
        /// The task's status, or for a folded node the most telling status of its members.
        public var status: TaskStatus
        /// Members per status (folded nodes only).
        public var counts: [TaskStatus: Int]
        public var layer: Int
        public var row: Int
    }

    public private(set) var nodes: [Node] = []
    /// Edges between node positions in ``nodes`` (deduplicated).
    public private(set) var edges: [(from: Int, to: Int, sequential: Bool)] = []
    public private(set) var layerCount = 0
    public private(set) var rowCount = 0
    public let folded: Bool

    /// - Parameter fold: draw one node per group / layer instead of one per task.
    public init(spec: WorkflowSpec, tasks: [TaskRecord], fold: Bool) {
        folded = fold
        let count = spec.tasks.count
        var indexOf: [String: Int] = [:]
        for (index, task) in spec.tasks.enumerated() { indexOf[task.name] = index }
        var predecessors = [[(Int, Bool)]](repeating: [], count: count)
        for (index, task) in spec.tasks.enumerated() {
            for dependency in task.dependsOn {
                if let from = indexOf[dependency], from != index { predecessors[index].append((from, false)) }
            }
        }
        for group in spec.groups where group.strategy == .sequential {
            let members = spec.tasks.indices.filter { spec.tasks[$0].group == group.name }
            for (from, to) in zip(members, members.dropFirst()) { predecessors[to].append((from, true)) }
        }
        let layerOf = Self.longestPathLayers(predecessors)
        var statusOf = [TaskStatus](repeating: .pending, count: count)
        for task in tasks where task.index >= 0 && task.index < count { statusOf[task.index] = task.status }

        // Node per task, or per fold key (group name, else the layer).
        var nodeOf = [Int](repeating: 0, count: count)
        if fold {
            var keyIndex: [String: Int] = [:]
            for index in 0..<count {
                let key = spec.tasks[index].group.map { "g:" + $0 } ?? "l:\(layerOf[index])"
                if let existing = keyIndex[key] {
                    nodeOf[index] = existing
                    nodes[existing].counts[statusOf[index], default: 0] += 1
                    nodes[existing].layer = min(nodes[existing].layer, layerOf[index])
                } else {
                    keyIndex[key] = nodes.count
                    nodeOf[index] = nodes.count
                    let label = spec.tasks[index].group ?? "stage \(layerOf[index] + 1)"
                    nodes.append(
                        Node(
                            task: nil, label: label, status: .pending, counts: [statusOf[index]: 1],
                            layer: layerOf[index], row: 0))
                }
            }
            for position in nodes.indices { nodes[position].status = Self.summary(nodes[position].counts) }
        } else {
            for index in 0..<count {
                nodeOf[index] = index
                nodes.append(
                    Node(
                        task: index, label: spec.tasks[index].name, status: statusOf[index], counts: [:],
                        layer: layerOf[index], row: 0))
            }
        }
        var seen: Set<Int> = []
        for index in 0..<count {
            for (from, sequential) in predecessors[index] {
                let a = nodeOf[from]
                let b = nodeOf[index]
                guard a != b, seen.insert(a &* 1_000_003 &+ b).inserted else { continue }
                edges.append((from: a, to: b, sequential: sequential))
            }
        }
        if fold { relayer() }
        order()
    }

    /// Layer of each task: 0 for sources, else 1 + the deepest predecessor (Kahn order).
    static func longestPathLayers(_ predecessors: [[(Int, Bool)]]) -> [Int] {
        let count = predecessors.count
        var successors = [[Int]](repeating: [], count: count)
        var unmet = [Int](repeating: 0, count: count)
        for (index, list) in predecessors.enumerated() {
            for (from, _) in list {
                successors[from].append(index)
                unmet[index] += 1
            }
        }
        var layer = [Int](repeating: 0, count: count)
        var queue = (0..<count).filter { unmet[$0] == 0 }
        var head = 0
        while head < queue.count {
            let index = queue[head]
            head += 1
            for next in successors[index] {
                layer[next] = max(layer[next], layer[index] + 1)
                unmet[next] -= 1
                if unmet[next] == 0 { queue.append(next) }
            }
        }
        return layer
    }

    /// Folded nodes: layers again, over the folded edges (a group sits after what it needs).
    private mutating func relayer() {
        var predecessors = [[(Int, Bool)]](repeating: [], count: nodes.count)
        for edge in edges { predecessors[edge.to].append((edge.from, edge.sequential)) }
        let layers = Self.longestPathLayers(predecessors)
        for position in nodes.indices { nodes[position].layer = layers[position] }
    }

    /// Rows within each layer: sources in spec order, then by the mean row of predecessors.
    private mutating func order() {
        layerCount = (nodes.map(\.layer).max() ?? -1) + 1
        var byLayer = [[Int]](repeating: [], count: layerCount)
        for position in nodes.indices { byLayer[nodes[position].layer].append(position) }
        var predecessors = [[Int]](repeating: [], count: nodes.count)
        for edge in edges { predecessors[edge.to].append(edge.from) }
        for layer in 0..<layerCount {
            var members = byLayer[layer]
            if layer > 0 {
                let key = members.map { position -> Double in
                    let rows = predecessors[position].map { Double(nodes[$0].row) }
                    return rows.isEmpty ? Double(position) : rows.reduce(0, +) / Double(rows.count)
                }
                let order = members.indices.sorted { (key[$0], members[$0]) < (key[$1], members[$1]) }
                members = order.map { members[$0] }
            }
            for (row, position) in members.enumerated() { nodes[position].row = row }
            rowCount = max(rowCount, members.count)
        }
    }

    /// The status a folded node shows: failures first, then activity, then the rest.
    static func summary(_ counts: [TaskStatus: Int]) -> TaskStatus {
        let precedence: [TaskStatus] = [.failed, .timedOut, .running, .cancelled, .pending, .skipped, .succeeded]
        return precedence.first { (counts[$0] ?? 0) > 0 } ?? .pending
    }
}
