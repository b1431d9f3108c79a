import BatonCore
import Foundation

/// The final table of `baton run`: one row per task.
enum RunTable {
    static func render(run: RunRecord, tasks: [TaskRecord]) -> String {
        var rows: [[String]] = [["TASK", "STATUS", "ATTEMPTS", "EXIT", "DURATION", "REASON"]]
        for task in tasks {
            let exit = task.exitCode.map(String.init) ?? task.signal.map { "sig \($0)" } ?? "-"
            var duration = "-"
            if task.status.isTerminal, let started = task.startedAt, let finished = task.finishedAt {
                duration = String(format: "%.2fs", finished.timeIntervalSince(started))
            }
            rows.append([task.name, task.status.rawValue, String(task.attempt), exit, duration, task.reason ?? ""])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var summary = "run \(run.id) \(run.status.rawValue)"
        if let started = run.startedAt, let finished = run.finishedAt {
            summary += String(format: " in %.2fs", finished.timeIntervalSince(started))
        }
        let counts = TaskStatus.allCases.compactMap { status -> String? in
            let count = tasks.filter { $0.status == status }.count
            return count == 0 ? nil : "\(count) \(status.rawValue)"
        }
        summary += " (" + counts.joined(separator: ", ") + ")"
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}
