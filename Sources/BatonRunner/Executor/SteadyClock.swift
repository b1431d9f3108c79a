import BatonCore
import Foundation

/// The executor's clock: it reads like the wall clock but advances like the monotonic one,
/// so a step of the wall clock (an NTP correction, an administrator's `date -s`) never
/// moves a task's deadline, a kill grace or a retry delay.
///
/// The engine is pure and works on `Date`s; the executor hands it this clock's readings.
/// At start both clocks agree, so times read back from the store (wall-clock readings of
/// an earlier process) mean the same to the engine. Should the wall clock be stepped while
/// the server runs, what is shown stays wall-clock: ``wallTimes(_:)`` moves the times of a
/// batch by the step before it is stored and announced (a time recorded before the step is
/// then shown as the corrected clock would have read it).
struct SteadyClock: Sendable {
    private let anchorWall: Date
    private let anchorInstant: ContinuousClock.Instant

    init() {
        anchorInstant = ContinuousClock.now
        anchorWall = Date()
    }

    /// Now, on this clock.
    func now() -> Date {
        let elapsed = ContinuousClock.now - anchorInstant
        let (seconds, attoseconds) = elapsed.components
        return anchorWall.addingTimeInterval(Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// How far the wall clock is ahead of this one (the sum of its steps since start).
    func wallOffset() -> TimeInterval {
        Date().timeIntervalSince(now())
    }

    /// A reading of this clock as the wall clock shows it now.
    func wall(_ date: Date) -> Date {
        date.addingTimeInterval(wallOffset())
    }

    /// Offsets under this are left alone: they are rounding, not a step.
    static let stepThreshold: TimeInterval = 0.5

    /// `batch` with its times moved onto the wall clock (unchanged unless it was stepped).
    func wallTimes(_ batch: StoreBatch) -> StoreBatch {
        let offset = wallOffset()
        guard abs(offset) >= Self.stepThreshold else { return batch }
        func moved(_ date: Date?) -> Date? { date?.addingTimeInterval(offset) }
        var shifted = batch
        for index in shifted.runs.indices {
            shifted.runs[index].startedAt = moved(shifted.runs[index].startedAt)
            shifted.runs[index].finishedAt = moved(shifted.runs[index].finishedAt)
        }
        for index in shifted.tasks.indices {
            shifted.tasks[index].task.startedAt = moved(shifted.tasks[index].task.startedAt)
            shifted.tasks[index].task.finishedAt = moved(shifted.tasks[index].task.finishedAt)
            shifted.tasks[index].task.retryAt = moved(shifted.tasks[index].task.retryAt)
        }
        for index in shifted.attempts.indices {
            shifted.attempts[index].startedAt = shifted.attempts[index].startedAt.addingTimeInterval(offset)
            shifted.attempts[index].finishedAt = moved(shifted.attempts[index].finishedAt)
            shifted.attempts[index].queuedAt = moved(shifted.attempts[index].queuedAt)
        }
        return shifted
    }
}
