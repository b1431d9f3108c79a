import BatonCore
import Foundation
import Glibc

// Cluster mode: a node that lost a run (frozen or cut off past its lease, the run taken
// over by another node) must stop what it still runs of it. The store already refuses its
// writes for the run (fencing by generation); this stops the processes.
extension ExecutorLoop {
    func abandon(_ runIDs: [String], now: Date) {
        for runID in runIDs where engine.runs[runID] != nil && !abandoned.contains(runID) {
            abandoned.insert(runID)
            var killed = 0
            for (ref, pid) in pidOf where ref.runID == runID {
                reactor.signalGroup(pid: pid, SIGKILL)
                killed += 1
            }
            // Its attempts on other nodes are the new owner's business now (it withdrew
            // them): this machine only needs them to end, so that it ends too.
            for (ref, _) in remoteAttempts where ref.runID == runID {
                remoteAttempts[ref] = nil
                engine.processLost(ref, reason: "the run was taken over by another node", now: now)
            }
            logger.warning(
                "run taken over by another node; killed its tasks here",
                metadata: ["run": "\(runID)", "processes": "\(killed)"])
            // Two cancels: stop everything, `runalways` tasks included, so the machine ends
            // once its processes are reaped (its rows are not written any more).
            engine.cancel(runID: runID, now: now)
            engine.cancel(runID: runID, now: now)
        }
    }
}
