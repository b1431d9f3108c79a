import CBatonSys
import Foundation
import Glibc

extension ChildReactor {
    /// Output read from one pipe per wake-up before the others get their turn.
    static let pumpBudget = 1 << 20
    /// The longest sleep while a child without pidfd must be checked by the sweep.
    static let sweepIntervalMilliseconds: Int32 = 50

    /// Pumps output into the logs and blocks until at least one child has exited, the
    /// `deadline` has passed (`nil`: no deadline), or ``waker`` was woken. Returns the
    /// exits seen, each child once, after it was reaped and its group SIGKILLed; the list
    /// is empty when the deadline or a wake ended the wait. With no child and no deadline
    /// only a wake returns.
    public func poll(until deadline: Date?) -> [ChildExit] {
        // The wall-clock deadline becomes a monotonic one at once: a step of the wall clock
        // during the wait neither ends it early nor stretches it.
        let due = deadline.map { ContinuousClock.now + .seconds(max(0, $0.timeIntervalSinceNow)) }
        var exits: [ChildExit] = []
        while true {
            let woken = waitForEvents(timeoutMilliseconds: timeout(until: due))
            for child in exitedScratch {
                if let exit = finish(child) { exits.append(exit) }
            }
            exitedScratch.removeAll(keepingCapacity: true)
            if !exits.isEmpty || woken { return exits }
            let now = ContinuousClock.now
            if let due, due <= now { return exits }
            if tracksLogProgress && !logProgress.isEmpty && logProgressDue <= now {
                logProgressDue = now + .seconds(Self.logProgressInterval)
                return exits
            }
        }
    }

    private func timeout(until due: ContinuousClock.Instant?) -> Int32 {
        var milliseconds: Int32 = -1
        var due = due
        if tracksLogProgress && !logProgress.isEmpty {
            due = min(due ?? logProgressDue, logProgressDue)
        }
        if let due {
            let (seconds, attoseconds) = (due - ContinuousClock.now).components
            let remaining = Double(seconds) + Double(attoseconds) * 1e-18
            // Round up: waking a little late is harmless, waking early just loops.
            milliseconds = remaining <= 0 ? 0 : Int32(min((remaining * 1000).rounded(.up), 3_600_000))
        }
        if childrenWithoutPidFD > 0 {
            let interval = Self.sweepIntervalMilliseconds
            milliseconds = milliseconds < 0 ? interval : min(milliseconds, interval)
        }
        return milliseconds
    }

    /// One epoll_wait over the waker, every pidfd and every open pipe; pumps readable
    /// pipes and puts exited children in `exitedScratch`. Returns whether the waker fired.
    private func waitForEvents(timeoutMilliseconds: Int32) -> Bool {
        let ready = readyKeys.withUnsafeMutableBufferPointer {
            baton_epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeoutMilliseconds)
        }
        var woken = false
        if ready > 0 {
            for index in 0..<Int(ready) {
                let key = readyKeys[index]
                if key == EventKey.waker {
                    waker.drain()
                    woken = true
                    continue
                }
                // A child finished earlier in this pass has closed its descriptors; its
                // key finds nothing (pids are not reused before the reap, which is later).
                guard let child = children[Int32(truncatingIfNeeded: key >> 1)] else { continue }
                if key & 1 == 0 {
                    // Readable, or hung up once every writer is gone: read says which.
                    pump(child, budget: Self.pumpBudget)
                } else {
                    // pidfd_open(2): "the file descriptor becomes readable when the
                    // process terminates".
                    markExited(child)
                }
            }
        } else if ready < 0 && errno != EINTR {
            // Cannot happen with valid descriptors; never spin on it.
            usleep(10_000)
        }

        if childrenWithoutPidFD > 0 {
            for child in children.values where child.pidFD < 0 && baton_peek_exited(child.pid) != 0 {
                markExited(child)
            }
        }
        return woken
    }

    private func markExited(_ child: ChildProcess) {
        guard !child.exitSeen else { return }
        child.exitSeen = true
        exitedScratch.append(child)
    }

    /// Copies what `child`'s pipe holds into its log; closes the pipe at EOF.
    private func pump(_ child: ChildProcess, budget: Int) {
        guard child.pipeFD >= 0 else { return }
        let before = child.log.writtenBytes
        if !child.log.pump(from: child.pipeFD, through: readBuffer, budget: budget) {
            close(child.pipeFD)
            child.pipeFD = -1
        }
        if tracksLogProgress && child.log.writtenBytes != before {
            logProgress[child.tag] = child.log.writtenBytes
        }
    }

    /// Ends a child that exited: drains its output, SIGKILLs its process group, reaps it,
    /// closes its descriptors and forgets it. With `force` (the reactor is going away) it
    /// does not wait for the exit: the SIGKILL causes it. Returns nil, changing nothing,
    /// when the child turns out to be still running.
    func finish(_ child: ChildProcess, force: Bool = false) -> ChildExit? {
        // The exit is reported now, not at pipe EOF: a background grandchild may hold the
        // pipe open for ever. What the leader wrote before exiting is already in the pipe.
        pump(child, budget: Self.pumpBudget)

        let state = baton_peek_exited(child.pid)
        if state == 0 && !force {
            child.exitSeen = false
            return nil
        }
        var status: Int32 = 0
        var statusKnown = false
        if state != -1 {
            // SPEC §2, "no task process is ever left behind": the task's background
            // leftovers die with its leader. Order matters: the leader is still an unreaped
            // zombie here, and the pid of a zombie "is not available for reuse" until it
            // is waited for, so -pid can only name this task's group, never a newcomer.
            _ = kill(-child.pid, SIGKILL)
            var reaped: pid_t
            repeat {
                reaped = waitpid(child.pid, &status, 0)
            } while reaped < 0 && errno == EINTR
            statusKnown = reaped == child.pid
        }
        // Anything the group wrote before the SIGKILL landed; it cannot write more after.
        pump(child, budget: Self.pumpBudget)

        if child.pipeFD >= 0 { close(child.pipeFD) }
        if child.pidFD >= 0 { close(child.pidFD) } else { childrenWithoutPidFD -= 1 }
        if child.inputFD >= 0 { close(child.inputFD) }
        child.log.closeLog()
        child.pipeFD = -1
        child.pidFD = -1
        child.inputFD = -1
        children[child.pid] = nil
        logProgress[child.tag] = nil

        let (exitCode, signal) = statusKnown ? Self.decode(waitStatus: status) : (nil, nil)
        return ChildExit(
            tag: child.tag, pid: child.pid, exitCode: exitCode, signal: signal,
            logBytes: child.log.writtenBytes)
    }

    /// WIFEXITED/WEXITSTATUS and WIFSIGNALED/WTERMSIG, which Swift cannot import (macros):
    /// glibc's layout is the exit status in bits 8-15 with 0 in bits 0-6, or the signal in
    /// bits 0-6 (0x7f there means stopped, which waitpid without WUNTRACED never reports).
    static func decode(waitStatus status: Int32) -> (exitCode: Int32?, signal: Int32?) {
        let low = status & 0x7f
        if low == 0 { return ((status >> 8) & 0xff, nil) }
        if low != 0x7f { return (nil, low) }
        return (nil, nil)
    }
}
