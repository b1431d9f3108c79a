import BatonCore
import CBatonSys
import Foundation
import Glibc

/// Descendants that escaped their task's process group (`setsid`): the server is a child
/// subreaper, so when their parent dies they are re-parented to it instead of init; this
/// finds them among the server's children and stops those whose task attempt has ended.
extension ExecutorLoop {
    /// How often the children are looked at without a task exit (double forks re-parent
    /// a little after their task's leader exits).
    static let orphanScanInterval: TimeInterval = 1
    /// At most this often right after exits.
    static let orphanScanAfterExits: TimeInterval = 0.05
    /// Scans owed after exits (see ``orphanScansOwed``).
    static let orphanScansAfterExits = 2

    /// Makes this process the reaper of its orphaned descendants (once, at start).
    static func becomeSubreaper() -> Bool {
        baton_set_child_subreaper() == 0
    }

    func reapOrphansIfDue(now: Date, hadExits: Bool) {
        // Owed even when this round cannot scan (one just ran): `nextWake` then comes back
        // for it, so a daemon that escaped a cancelled task is not left to the next event.
        if hadExits { orphanScansOwed = Self.orphanScansAfterExits }
        let since = now.timeIntervalSince(orphansScannedAt)
        let soon = orphanScansOwed == Self.orphanScansAfterExits
        guard since >= Self.orphanScanInterval || (soon && since >= Self.orphanScanAfterExits) else { return }
        orphansScannedAt = now
        orphanScansOwed = max(0, orphanScansOwed - 1)
        reapOrphans()
    }

    /// Kills orphans whose attempt is over (or, unmarked, once no task runs) and reaps
    /// the ones that exited; the reactor's own children are left to the reactor.
    func reapOrphans() {
        orphansSeen = false
        for pid in ProcessScan.children() where reactor.children[pid] == nil {
            orphansSeen = true
            guard let (state, group) = ProcessScan.state(of: pid) else { continue }
            if state == "Z" {
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
                continue
            }
            let marks = ProcessScan.marks(of: pid)
            let attemptOver = marks.map { !liveAttempts.contains($0) } ?? liveAttempts.isEmpty
            guard attemptOver else { continue }
            logger.info(
                "killing a process that escaped its task",
                metadata: [
                    "pid": "\(pid)", "run": "\(marks?.runID ?? "?")", "task": "\(marks?.task ?? "?")",
                ])
            // A `setsid` leader takes its own group with it.
            if group == pid { _ = kill(-pid, SIGKILL) }
            _ = kill(pid, SIGKILL)
        }
    }
}
