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
            logger.warning(
                "run taken over by another node; killed its tasks here",
                metadata: ["run": "\(runID)", "processes": "\(killed)"])
            // Two cancels: stop everything, `runalways` tasks included, so the machine ends
            // once its processes are reaped (its rows are not written any more).
            engine.cancel(runID: runID, now: now)
            engine.cancel(runID: runID, now: now)
            // Its attempts on other nodes are the new owner's business now (it withdrew
            // them): this machine only needs them to end (cancelled: the run is halted).
            for (ref, _) in remoteAttempts where ref.runID == runID {
                remoteAttempts[ref] = nil
                engine.processLost(ref, reason: "the run was taken over by another node", now: now)
            }
        }
    }

    /// Runs taken over from a lost node. One this node had itself lost earlier, and whose
    /// abandoned machine is still ending here, waits for that machine to be gone.
    func adopt(_ runs: [RunRecord], interruption: String, now: Date) {
        deferredAdoptions += runs.filter { abandoned.contains($0.id) }.map { ($0, interruption) }
        do {
            // `resume` first kills what the lost node left on this machine (a task's leader
            // died with it, not the leader's children), as after a restart.
            try resume(runs.filter { !abandoned.contains($0.id) }, interruption: interruption, now: now)
        } catch {
            logger.error("could not take over runs", metadata: ["error": "\(error)"])
        }
    }

    /// Called by the loop between rounds (`resume` settles a round of its own).
    func resumeDeferredAdoptions() {
        guard !deferredAdoptions.isEmpty else { return }
        let ready = deferredAdoptions.filter { engine.runs[$0.record.id] == nil }
        guard !ready.isEmpty else { return }
        deferredAdoptions.removeAll { engine.runs[$0.record.id] == nil }
        for (record, interruption) in ready {
            // Read again: the record given at adoption is older than what the store holds.
            let current = ((try? store.run(id: record.id)) ?? nil) ?? record
            adopt([current], interruption: interruption, now: clock.now())
        }
    }
}
