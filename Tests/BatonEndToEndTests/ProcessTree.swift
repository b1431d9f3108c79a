import Foundation
import Glibc
import Testing

/// A task that builds a small process tree in its process group and records it: the shell
/// itself, an orphaned grandchild (`(sleep 1000 &)`), a child that ignores SIGTERM (only the
/// SIGKILL after the grace can stop it) and a plain background child. It then writes
/// `NAME.ready` and waits forever.
enum ProcessTree {
    /// The `/bin/sh -c` command of a tree task; files go to `$DIR/NAME.*`.
    static func command(_ name: String) -> String {
        """
        P="$DIR/\(name)"
        echo $$ >> "$P.pids"
        cut -d' ' -f5 /proc/$$/stat > "$P.pgid"
        (sleep 1000 & echo $! >> "$P.pids")
        (trap '' TERM; touch "$P.trap"; exec sleep 1000) & echo $! >> "$P.pids"
        sleep 1000 & echo $! >> "$P.pids"
        while [ ! -f "$P.trap" ]; do sleep 0.01; done
        touch "$P.ready"
        wait
        """
    }

    /// What a tree task recorded.
    struct Recorded: Sendable, CustomStringConvertible {
        var pids: [pid_t]
        var pgid: pid_t

        var description: String { "pids \(pids) in group \(pgid)" }
    }

    /// Reads what tree `name` recorded (call once `NAME.ready` exists).
    static func recorded(_ name: String, in scratch: Scratch) throws -> Recorded {
        let pids = scratch.lines("\(name).pids").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
        guard pids.count == 4,
            let pgid = scratch.read("\(name).pgid").flatMap({
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            })
        else {
            throw E2EError("tree \(name) did not record its pids: \(scratch.read("\(name).pids") ?? "nothing")")
        }
        return Recorded(pids: pids, pgid: pgid)
    }

    /// Expects every recorded process gone (ESRCH, or a zombie of init) and group `pgid`
    /// empty, allowing a short bound for the kernel to finish SIGKILLs Baton sent before it
    /// exited; also that nothing of the scratch survives.
    static func expectGone(
        _ tree: Recorded, in scratch: Scratch, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            try await waitUntil("\(tree) to be gone", within: .seconds(3)) {
                tree.pids.allSatisfy { !ProcessTable.isAlive($0) }
                    && ProcessTable.members(ofGroup: tree.pgid).isEmpty
            }
        } catch {
            let left = tree.pids.filter(ProcessTable.isAlive).compactMap(ProcessTable.entry)
            Issue.record(
                "processes left behind: \(left) group members: \(ProcessTable.members(ofGroup: tree.pgid))",
                sourceLocation: sourceLocation)
        }
        let survivors = ProcessTable.survivors(of: scratch)
        #expect(survivors.isEmpty, "processes of this test still alive: \(survivors)", sourceLocation: sourceLocation)
    }

    /// Expects the recorded processes all alive (before Baton is asked to stop them).
    static func expectAlive(
        _ tree: Recorded, baton: BatonProcess, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        // Each task in a process group of its own, not Baton's nor the test runner's.
        #expect(tree.pgid != getpgrp(), "task shares the test runner's group", sourceLocation: sourceLocation)
        #expect(
            tree.pgid != ProcessTable.entry(baton.pid)?.pgid, "task shares Baton's group",
            sourceLocation: sourceLocation)
        let dead = tree.pids.filter { !ProcessTable.isAlive($0) }
        #expect(dead.isEmpty, "tree processes already gone: \(dead)", sourceLocation: sourceLocation)
        #expect(
            ProcessTable.members(ofGroup: tree.pgid).count >= 4,
            "group \(tree.pgid): \(ProcessTable.members(ofGroup: tree.pgid))", sourceLocation: sourceLocation)
    }
}
