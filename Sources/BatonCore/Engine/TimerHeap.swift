import Foundation

/// What a timer of a run is for.
enum TimerKind: Sendable, Equatable {
    /// The task's (or its on_timeout hook's) time limit.
    case deadline
    /// The end of the kill grace: SIGKILL the group.
    case kill
    /// A retry delay is over.
    case retry
}

/// A due time for one task; `generation` invalidates timers of a phase that has ended, so
/// cancelled timers are dropped lazily instead of searched for.
struct TaskTimer: Sendable {
    var at: Date
    var task: Int32
    var kind: TimerKind
    var generation: UInt32
}

/// A binary min-heap of timers ordered by due time: O(log n) insert and pop.
struct TimerHeap: Sendable {
    private var items: [TaskTimer] = []

    var isEmpty: Bool { items.isEmpty }
    var earliest: Date? { items.first?.at }

    mutating func push(_ timer: TaskTimer) {
        items.append(timer)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(_ now: Date) -> TaskTimer? {
        guard let first = items.first, first.at <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].at < items[smallest].at { smallest = left }
                if right < items.count && items[right].at < items[smallest].at { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
