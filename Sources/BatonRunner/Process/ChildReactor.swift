import CBatonSys
import Foundation
import Glibc

/// Spawns task processes, each leading its own process group, pumps their output into
/// capped log files, and reports their exits: the one place where Baton's children are
/// started, watched and reaped (ninja's `SubprocessSet`, in Swift).
///
/// Single-threaded by design: ONE thread owns the reactor and makes every call on it
/// (the executor loop: spawn, signal, `poll`, repeat); it is deliberately not `Sendable`.
/// The only thing other threads may touch is ``waker``. No thread per child: one epoll
/// instance watches the waker's eventfd, every child's pidfd and every output pipe, so a
/// wake-up costs the same with 5 children or 5,000 (poll(2) rebuilt and scanned a list of
/// every descriptor on each one).
///
/// "No task process is ever left behind" (SPEC §2): when a child exits, its whole process
/// group is SIGKILLed before the child is reaped and reported, so background leftovers of
/// a task die with it; when the reactor itself is destroyed, every live group is SIGKILLed
/// and reaped. Processes that leave their group (`setsid`, `setpgid`) escape this.
///
/// Requirements on the rest of the process: nothing else may reap these children (no
/// `waitpid(-1)`, SIGCHLD not set to SIG_IGN), or their status is lost and their group is
/// left alone (it could no longer be told from a newer group reusing the id).
public final class ChildReactor {
    /// Wakes a blocked ``poll(until:)`` from any thread.
    public let waker: ReactorWaker

    /// `/dev/null`, opened once and `dup2`ed onto every child's stdin.
    let devNullFD: Int32
    /// One read buffer shared by all pipes (the reactor is single-threaded).
    let readBuffer: UnsafeMutableRawBufferPointer
    /// False only in tests, to exercise the path taken when `pidfd_open` is unavailable.
    let usesPidFDs: Bool

    var children: [Int32: ChildProcess] = [:]
    /// `PATH` searches of the last second (bare command names).
    var executables = ExecutableLookupCache()
    /// Children without a pidfd: while any exist, poll wakes every 50 ms to sweep them.
    var childrenWithoutPidFD = 0
    /// The epoll instance: the waker (key 0), and per child its pipe and its pidfd (see
    /// ``EventKey``). Closing a descriptor removes it, so nothing is ever deleted by hand.
    let epollFD: Int32
    // Scratch arrays of `poll(until:)`, kept to avoid allocating on every call.
    var readyKeys = [UInt64](repeating: 0, count: 256)
    var exitedScratch: [ChildProcess] = []
    /// When true, ``takeLogProgress()`` reports children whose log grew (live log views);
    /// off by default so that `baton run` pays nothing for it.
    public var tracksLogProgress = false
    /// Tags of children whose log grew since the last ``takeLogProgress()``, with the size.
    var logProgress: [UInt64: Int] = [:]
    /// ``poll(until:)`` returns for log growth at most this often (a live log view needs
    /// a few updates a second, not one per pipe read).
    static let logProgressInterval: Double = 0.05
    var logProgressDue = ContinuousClock.now

    /// What an epoll key names: 0 is the waker; else the child's pid shifted left once, with
    /// the low bit telling its exit (pidfd) from its output (pipe).
    enum EventKey {
        static let waker: UInt64 = 0
        static func output(_ pid: Int32) -> UInt64 { UInt64(UInt32(bitPattern: pid)) << 1 }
        static func exit(_ pid: Int32) -> UInt64 { output(pid) | 1 }
    }

    /// The children whose log grew since the last call, as (tag, log size in bytes).
    public func takeLogProgress() -> [(tag: UInt64, bytes: Int)] {
        guard !logProgress.isEmpty else { return [] }
        defer { logProgress.removeAll(keepingCapacity: true) }
        return logProgress.map { (tag: $0.key, bytes: $0.value) }
    }

    /// Opens the waker and `/dev/null`; spawns nothing.
    public convenience init() throws(SpawnError) {
        try self.init(usesPidFDs: true)
    }

    init(usesPidFDs: Bool) throws(SpawnError) {
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw .system("open /dev/null", errno) }
        do {
            waker = try ReactorWaker()
        } catch {
            close(devNull)
            throw error
        }
        epollFD = baton_epoll_create()
        guard epollFD >= 0, baton_epoll_add(epollFD, waker.fd, EventKey.waker) == 0 else {
            let code = errno
            if epollFD >= 0 { close(epollFD) }
            close(devNull)
            throw .system("epoll", code)
        }
        // A daemon started with fd 0-2 closed would hand those numbers out; a child's
        // dup2(devNull, 0) must never clobber a descriptor it is about to dup2 elsewhere.
        devNullFD = Self.movedAboveStandardDescriptors(devNull)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        self.usesPidFDs = usesPidFDs
    }

    deinit {
        // SPEC §2, "no task process is ever left behind": whatever still runs dies now.
        for child in children.values {
            _ = finish(child, force: true)
        }
        readBuffer.deallocate()
        close(devNullFD)
        close(epollFD)
    }

    /// Children spawned and not yet reported by ``poll(until:)``.
    public var liveCount: Int { children.count }

    /// Sends `signal` to the whole process group of the live child `pid` (`kill(-pgid,
    /// sig)`); a group already gone (ESRCH) is ignored. Does nothing for a pid this
    /// reactor does not hold: once reported, a child is reaped and its id may belong to
    /// someone else. Returns whether a signal was sent.
    @discardableResult
    public func signalGroup(pid: Int32, _ signal: Int32) -> Bool {
        guard children[pid] != nil else { return false }
        // The leader is not reaped before its exit is handled, so `pid` is still ours even
        // if it has already exited: kill(2) "If pid is less than -1, then sig is sent to
        // every process in the process group whose ID is -pid."
        return kill(-pid, signal) == 0
    }

    /// SIGKILLs process group `pgid` if it still exists: for a restarted server, whose
    /// previous incarnation's tasks may still run (their pgids were persisted). Refuses
    /// ids that would hit init, every process (`kill(-1)`) or this server's own group.
    /// Returns whether a group was signalled. The id may, in principle, have been reused
    /// since it was recorded; process groups are only ever created by `setpgid`/`setsid`
    /// with the creator's pid, so a reuse requires a new group leader with that exact pid.
    @discardableResult
    public static func killLeftoverGroup(_ pgid: Int32) -> Bool {
        guard pgid > 1, pgid != getpgrp() else { return false }
        return kill(-pgid, SIGKILL) == 0
    }

    /// `fd` itself when it is above 2, else a close-on-exec duplicate that is (and `fd`
    /// closed). Only happens when the server runs with a standard descriptor closed.
    static func movedAboveStandardDescriptors(_ fd: Int32) -> Int32 {
        guard fd >= 0, fd <= 2 else { return fd }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        guard moved >= 0 else { return fd }
        close(fd)
        return moved
    }
}

@available(*, unavailable, message: "a ChildReactor belongs to the one thread that drives it")
extension ChildReactor: Sendable {}
