/// A directed graph over the nodes `0..<nodeCount`, stored as compressed rows: the edges
/// of node `v` are `targets[offsets[v]..<offsets[v + 1]]`. Built once per validation, in
/// node order; every algorithm here is iterative and linear, so a 100,000-task chain
/// neither overflows the stack nor takes quadratic time.
struct SpecGraph {
    private(set) var offsets: [Int] = [0]
    private(set) var targets: [Int] = []
    /// Per edge: the index in the source task's `depends_on` it came from, or -1 for an
    /// edge implied by group order.
    private(set) var slots: [Int] = []

    var nodeCount: Int { offsets.count - 1 }

    mutating func reserve(nodes: Int, edges: Int) {
        offsets.reserveCapacity(nodes + 1)
        targets.reserveCapacity(edges)
        slots.reserveCapacity(edges)
    }

    /// Adds an edge from the node being built (the next one `finishNode` closes).
    mutating func addEdge(to target: Int, slot: Int) {
        targets.append(target)
        slots.append(slot)
    }

    mutating func finishNode() {
        offsets.append(targets.count)
    }

    func edges(of node: Int) -> Range<Int> {
        offsets[node]..<offsets[node + 1]
    }

    /// The `depends_on` index of an edge `from → to`, preferring an explicit edge; -1 when
    /// the only such edge is implied.
    func slot(from source: Int, to target: Int) -> Int {
        var best = -1
        for edge in edges(of: source) where targets[edge] == target {
            best = max(best, slots[edge])
        }
        return best
    }

    /// The strongly connected components of more than one node, each sorted, ordered by
    /// their first node. Every cycle lies in one of them (the graph has no self-loops).
    /// Tarjan's algorithm with an explicit stack.
    func cyclicComponents() -> [[Int]] {
        let count = nodeCount
        var order = [Int](repeating: -1, count: count)  // discovery index, -1 when unvisited
        var low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var frames: [(node: Int, edge: Int)] = []
        var next = 0
        var components: [[Int]] = []

        for root in 0..<count where order[root] < 0 {
            order[root] = next
            low[root] = next
            next += 1
            stack.append(root)
            onStack[root] = true
            frames.append((root, offsets[root]))
            while let frame = frames.last {
                let node = frame.node
                if frame.edge < offsets[node + 1] {
                    frames[frames.count - 1].edge += 1
                    let target = targets[frame.edge]
                    if order[target] < 0 {
                        order[target] = next
                        low[target] = next
                        next += 1
                        stack.append(target)
                        onStack[target] = true
                        frames.append((target, offsets[target]))
                    } else if onStack[target] {
                        low[node] = min(low[node], order[target])
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last?.node {
                    low[parent] = min(low[parent], low[node])
                }
                guard low[node] == order[node] else { continue }
                if stack.last == node {
                    // A single node: the common case, kept allocation-free.
                    stack.removeLast()
                    onStack[node] = false
                    continue
                }
                var component: [Int] = []
                while let member = stack.popLast() {
                    onStack[member] = false
                    component.append(member)
                    if member == node { break }
                }
                components.append(component.sorted())
            }
        }
        return components.sorted { $0[0] < $1[0] }
    }

    /// A shortest cycle through `start` using only nodes for which `isMember` holds, as
    /// `[start, …, last]` where `last` has an edge back to `start`; found breadth-first.
    func cycle(through start: Int, within isMember: (Int) -> Bool) -> [Int] {
        var parent: [Int: Int] = [start: start]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for edge in edges(of: node) {
                let target = targets[edge]
                guard isMember(target) else { continue }
                if target == start {
                    var path = [node]
                    var current = node
                    while current != start {
                        current = parent[current]!
                        path.append(current)
                    }
                    return path.reversed()
                }
                if parent[target] == nil {
                    parent[target] = node
                    queue.append(target)
                }
            }
        }
        return [start]  // unreachable for a member of a cyclic component
    }
}
