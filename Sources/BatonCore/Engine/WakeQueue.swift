import Foundation

/// Each run's next wake-up time in an indexed binary heap: the earliest is read in O(1),
/// a run's time is set or removed in O(log n), so 1,000 concurrent runs cost nothing per
/// event to those not touched.
struct WakeQueue: Sendable {
    private var heap: [(runID: String, at: Date)] = []
    private var position: [String: Int] = [:]

    var earliest: Date? { heap.first?.at }

    /// Runs whose time is due at `now`, earliest first (they stay queued).
    func due(_ now: Date) -> [String] {
        guard let first = heap.first, first.at <= now else { return [] }
        var result: [String] = []
        var stack = [0]
        while let index = stack.popLast() {
            guard index < heap.count, heap[index].at <= now else { continue }
            result.append(heap[index].runID)
            stack.append(2 * index + 1)
            stack.append(2 * index + 2)
        }
        return result
    }

    /// Sets (or with nil removes) the wake time of a run.
    mutating func set(_ runID: String, _ at: Date?) {
        if let index = position[runID] {
            guard let at else {
                remove(at: index)
                return
            }
            let old = heap[index].at
            heap[index].at = at
            if at < old { siftUp(index) } else { siftDown(index) }
        } else if let at {
            heap.append((runID, at))
            position[runID] = heap.count - 1
            siftUp(heap.count - 1)
        }
    }

    private mutating func remove(at index: Int) {
        let last = heap.count - 1
        position[heap[index].runID] = nil
        if index != last {
            heap[index] = heap[last]
            position[heap[index].runID] = index
        }
        heap.removeLast()
        if index < heap.count {
            siftUp(index)
            siftDown(index)
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        position[heap[a].runID] = a
        position[heap[b].runID] = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].at < heap[smallest].at { smallest = left }
            if right < heap.count && heap[right].at < heap[smallest].at { smallest = right }
            if smallest == parent { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }
}
