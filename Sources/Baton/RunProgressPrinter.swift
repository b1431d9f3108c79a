import BatonCore
import BatonHTTP
import Foundation
import Synchronization

/// Prints one line per task state change of a run (SPEC §5 `baton run`): symbols and
/// colour on a terminal, plain words otherwise so logs and CI read well.
///
/// The tasks of the run's child runs (sub-workflows) print too, named by their path from
/// the run (`build/compile`): a child's task indexes restart at 0, so everything here is
/// keyed by run and index.
final class RunProgressPrinter: Sendable {
    private let fd: Int32
    private let fancy: Bool
    /// The run the user started: its tasks print under their own names.
    private let rootRunID: String
    /// The stored name of a child run (`ROOT/TASK[/TASK...]`), nil when unknown.
    private let runName: @Sendable (String) -> String?
    private let state = Mutex<State>(State())

    private struct State {
        /// Last printed status and attempt per task: a line only when one changes.
        var seen: [TaskKey: Seen] = [:]
        /// What goes before a child run's task names (`build/`), per child run.
        var prefixes: [String: String] = [:]
        var rootName: String?
    }

    private struct TaskKey: Hashable {
        var runID: String
        var index: Int
    }

    private struct Seen: Equatable {
        var status: TaskStatus
        var attempt: Int
    }

    init(
        toStandardError: Bool, rootRunID: String, rootName: String? = nil,
        runName: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        fd = toStandardError ? STDERR_FILENO : STDOUT_FILENO
        fancy = isatty(fd) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        self.rootRunID = rootRunID
        self.runName = runName
        state.withLock { $0.rootName = rootName }
    }

    /// Called on the executor thread with every batch written to the store: this runs
    /// twice per task of a 10,000-task run, so lines are built as bytes and written with
    /// one write(2), without Foundation's string and Data bridging.
    func handle(_ batch: StoreBatch) {
        var out: [UInt8] = []
        // One clock reading per batch: every line of a round shows the same time anyway.
        let clock = Self.clock(Date())
        state.withLock { state in
            for (runID, task) in batch.tasks {
                let key = TaskKey(runID: runID, index: task.index)
                let now = Seen(status: task.status, attempt: task.attempt)
                let before = state.seen.updateValue(now, forKey: key)
                guard before != now else { continue }
                // A task not started yet is not news; a retry waiting is.
                if before == nil && task.status == .pending { continue }
                let prefix = runID == rootRunID ? "" : prefix(ofChild: runID, state: &state)
                appendLine(for: task, prefix: prefix, clock: clock, to: &out)
            }
        }
        guard !out.isEmpty else { return }
        // A closed or full output drops the rest: progress must never stop the run.
        DescriptorWrite.all(fd, out)
    }

    /// `build/` for a child run named `ROOT/build`; the run id when its name is unknown.
    private func prefix(ofChild runID: String, state: inout State) -> String {
        if let known = state.prefixes[runID] { return known }
        if state.rootName == nil { state.rootName = runName(rootRunID) }
        var path = Substring(runName(runID) ?? runID)
        if let root = state.rootName, path.hasPrefix(root + "/") { path = path.dropFirst(root.count + 1) }
        // Kept either way: one store lookup per child run, not one per line.
        let prefix = String(path) + "/"
        state.prefixes[runID] = prefix
        return prefix
    }

    private func appendLine(for task: TaskRecord, prefix: String, clock: [UInt8], to out: inout [UInt8]) {
        let word = task.status.rawValue
        if fancy {
            let (symbol, colour) = Self.style(task.status)
            out.append(contentsOf: "\u{1B}[2m".utf8)
            out.append(contentsOf: clock)
            out.append(contentsOf: "\u{1B}[0m ".utf8)
            out.append(contentsOf: colour.utf8)
            out.append(contentsOf: symbol.utf8)
            out.append(UInt8(ascii: " "))
            Self.appendPadded(word, to: &out)
            out.append(contentsOf: "\u{1B}[0m ".utf8)
            out.append(contentsOf: prefix.utf8)
            out.append(contentsOf: task.name.utf8)
            out.append(contentsOf: "  \u{1B}[2m".utf8)
            appendDetail(of: task, to: &out)
            out.append(contentsOf: "\u{1B}[0m\n".utf8)
            return
        }
        out.append(contentsOf: clock)
        out.append(UInt8(ascii: " "))
        Self.appendPadded(word, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: task.name.utf8)
        let mark = out.count
        out.append(contentsOf: " (".utf8)
        let detailStart = out.count
        appendDetail(of: task, to: &out)
        if out.count == detailStart {
            out.removeSubrange(mark...)
        } else {
            out.append(UInt8(ascii: ")"))
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// `attempt 2` / the reason a task waits / `1.23s, exit code 1`.
    private func appendDetail(of task: TaskRecord, to out: inout [UInt8]) {
        switch task.status {
        case .running:
            out.append(contentsOf: "attempt \(task.attempt)".utf8)
        case .pending:
            out.append(contentsOf: (task.reason ?? "waiting").utf8)
        default:
            var separate = false
            if let started = task.startedAt, let finished = task.finishedAt {
                out.append(contentsOf: Self.seconds(finished.timeIntervalSince(started)).utf8)
                separate = true
            }
            if let reason = task.reason {
                if separate { out.append(contentsOf: ", ".utf8) }
                out.append(contentsOf: reason.utf8)
            }
        }
    }

    /// A status word padded to 9 columns.
    static func appendPadded(_ word: String, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: word.utf8)
        let width = out.count - start
        if width < 9 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 9 - width)) }
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

    /// `14:34:05` (UTC, like every time Baton shows).
    static func clock(_ date: Date) -> [UInt8] {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400 }
        let fields = [secondOfDay / 3600, (secondOfDay % 3600) / 60, secondOfDay % 60]
        var text: [UInt8] = []
        text.reserveCapacity(8)
        for (position, field) in fields.enumerated() {
            if position > 0 { text.append(UInt8(ascii: ":")) }
            text.append(UInt8(ascii: "0") + UInt8(field / 10))
            text.append(UInt8(ascii: "0") + UInt8(field % 10))
        }
        return text
    }
}
