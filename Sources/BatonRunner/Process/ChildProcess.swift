/// The reactor's record of one live child: the descriptors it watches and its log.
final class ChildProcess {
    let tag: UInt64
    /// Process id, and process group id (`POSIX_SPAWN_SETPGROUP` with pgroup 0).
    let pid: Int32
    /// Polls readable when the child exits; -1 when `pidfd_open` failed, and the child is
    /// then watched by the `waitid` sweep instead.
    var pidFD: Int32
    /// Read end of the child's stdout+stderr pipe (non-blocking); -1 once at EOF.
    var pipeFD: Int32
    var log: LogPump
    /// Write end of the child's stdin pipe, held open until the child is reaped; -1 when
    /// its stdin is `/dev/null`.
    var inputFD: Int32 = -1
    /// Set during one poll pass when the child was seen to exit.
    var exitSeen = false

    init(tag: UInt64, pid: Int32, pidFD: Int32, pipeFD: Int32, log: LogPump) {
        self.tag = tag
        self.pid = pid
        self.pidFD = pidFD
        self.pipeFD = pipeFD
        self.log = log
    }
}
