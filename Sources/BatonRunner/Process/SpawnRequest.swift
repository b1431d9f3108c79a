/// One process for ``ChildReactor/spawn(_:)`` to start: what to run, with which complete
/// environment, where, and where its output goes.
public struct SpawnRequest: Sendable {
    /// The caller's identifier, echoed back in ``ChildExit/tag``.
    public var tag: UInt64
    /// The program and its arguments, passed as they are (no shell). When `argv[0]` has no
    /// `/` it is looked up in the `PATH` of ``environment`` (not the server's), as
    /// `execvp(3)` would; otherwise it is used as a path, relative to ``workingDirectory``.
    public var argv: [String]
    /// The COMPLETE environment of the child: nothing of the server's own is added.
    public var environment: [String: String]
    /// The child's working directory; `nil` keeps the server's.
    public var workingDirectory: String?
    /// Absolute path of the log file. Parent directories are created; the file is opened
    /// `O_APPEND | O_CREAT`, so several spawns may share one log (each with its own cap).
    public var logPath: String
    /// Most bytes of output this spawn writes to ``logPath``. Beyond it one line
    /// `"\n[baton: log truncated at N bytes]\n"` is written and the rest is read and
    /// discarded, so the child never blocks on a full pipe.
    public var logCapBytes: Int
    /// nil: stdin is `/dev/null`. Else stdin is a pipe that holds these bytes and is then
    /// kept open, without more input, until the child is reaped: the child reads its input
    /// and then waits, and sees end-of-input only once it is over (ssh needs both).
    public var input: [UInt8]?

    /// 10 MiB, the cap of SPEC §2 ("kept up to a size cap (default 10 MiB)").
    public static let defaultLogCapBytes = 10 * 1024 * 1024

    /// A request; see the properties for the meaning of each argument.
    public init(
        tag: UInt64,
        argv: [String],
        environment: [String: String],
        workingDirectory: String? = nil,
        logPath: String,
        logCapBytes: Int = SpawnRequest.defaultLogCapBytes,
        input: [UInt8]? = nil
    ) {
        self.input = input
        self.tag = tag
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
        self.logCapBytes = logCapBytes
    }
}

/// How a spawned process ended, reported once by ``ChildReactor/poll(until:)`` after it
/// has been reaped and its process group killed.
public struct ChildExit: Sendable, Equatable {
    /// ``SpawnRequest/tag`` of the request that started it.
    public var tag: UInt64
    /// Its process id, which was also its process group id.
    public var pid: Int32
    /// The exit status (0–255) when it exited normally, else `nil`.
    public var exitCode: Int32?
    /// The signal that terminated it, else `nil`. Both are `nil` only when the status
    /// could not be collected (something else in the process reaped the child).
    public var signal: Int32?
    /// Bytes this spawn wrote to its log file, truncation marker included.
    public var logBytes: Int

    /// A value; see the properties for the meaning of each argument.
    public init(tag: UInt64, pid: Int32, exitCode: Int32?, signal: Int32?, logBytes: Int) {
        self.tag = tag
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.logBytes = logBytes
    }
}
