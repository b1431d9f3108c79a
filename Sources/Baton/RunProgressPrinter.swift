import BatonCore
import Foundation
import Synchronization

/// Prints one line per task state change of a run (SPEC §5 `baton run`): symbols and
/// colour on a terminal, plain words otherwise so logs and CI read well.
final class RunProgressPrinter: Sendable {
    private let toStandardError: Bool
    private let fancy: Bool
    /// Last printed status and attempt per task index: a line only when one changes.
    private let seen = Mutex<[Int: Seen]>([:])

    private struct Seen: Equatable {
        var status: TaskStatus
        var attempt: Int
    }

    init(toStandardError: Bool) {
        self.toStandardError = toStandardError
        let fd = toStandardError ? STDERR_FILENO : STDOUT_FILENO
        fancy = isatty(fd) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// Called on the executor thread with every batch written to the store.
    func handle(_ batch: StoreBatch) {
        var lines: [String] = []
        // One clock reading per batch: every line of a round shows the same time anyway.
        let clock = Self.clock(Date())
        seen.withLock { seen in
            for (_, task) in batch.tasks {
                let now = Seen(status: task.status, attempt: task.attempt)
                guard seen[task.index] != now else { continue }
                let firstSight = seen[task.index] == nil
                seen[task.index] = now
                // A task not started yet is not news; a retry waiting is.
                if firstSight && task.status == .pending { continue }
                lines.append(line(for: task, clock: clock))
            }
        }
        guard !lines.isEmpty else { return }
        let text = lines.joined(separator: "\n") + "\n"
        (toStandardError ? FileHandle.standardError : FileHandle.standardOutput).write(Data(text.utf8))
    }

    private func line(for task: TaskRecord, clock: String) -> String {
        let detail: String
        switch task.status {
        case .running: detail = "attempt \(task.attempt)"
        case .pending: detail = task.reason ?? "waiting"
        default:
            var parts: [String] = []
            if let started = task.startedAt, let finished = task.finishedAt {
                parts.append(Self.seconds(finished.timeIntervalSince(started)))
            }
            if let reason = task.reason { parts.append(reason) }
            detail = parts.joined(separator: ", ")
        }
        let word = task.status.rawValue
        if fancy {
            let (symbol, colour) = Self.style(task.status)
            return
                "\u{1B}[2m\(clock)\u{1B}[0m \(colour)\(symbol) \(Self.padded(word))\u{1B}[0m \(task.name)  \u{1B}[2m\(detail)\u{1B}[0m"
        }
        return "\(clock) \(Self.padded(word)) \(task.name)"
            + (detail.isEmpty ? "" : " (\(detail))")
    }

    /// A status word padded to 9 columns (Foundation's `padding(toLength:)` bridges
    /// through NSString: it showed in profiles of 10,000-task runs).
    static func padded(_ word: String) -> String {
        word.count >= 9 ? word : word + String(repeating: " ", count: 9 - word.count)
    }

    static func style(_ status: TaskStatus) -> (String, String) {
        switch status {
        case .pending: return ("⚐", "\u{1B}[33m")
        case .running: return ("↺", "\u{1B}[36m")
        case .succeeded: return ("✓", "\u{1B}[32m")
        case .failed: return ("✗", "\u{1B}[31m")
        case .timedOut: return ("⏱", "\u{1B}[31m")
        case .cancelled: return ("■", "\u{1B}[35m")
        case .skipped: return ("↷", "\u{1B}[2m")
        }
    }

    /// `1.23s`.
    static func seconds(_ value: Double) -> String {
        FixedPoint.format(value, decimals: 2) + "s"
    }

    static func clock(_ date: Date) -> String {
        let text = Timestamp.format(date)  // 2026-11-23T14:34:05.123Z
        let start = text.index(text.startIndex, offsetBy: 11)
        let end = text.index(start, offsetBy: 8)
        return String(text[start..<end])
    }
}
