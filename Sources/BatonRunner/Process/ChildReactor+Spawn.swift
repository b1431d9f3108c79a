import CBatonSys
import Glibc

extension ChildReactor {
    /// Starts `request` as a new process leading its own process group, and returns its
    /// pid (= its pgid). Its exit is reported later by ``poll(until:)``.
    ///
    /// The child gets: stdin from `/dev/null` (or the pipe of ``SpawnRequest/input``); stdout and stderr on one pipe that the
    /// reactor copies into the log; no other descriptor of the server (everything the
    /// reactor opens is `O_CLOEXEC`, and the child closes every descriptor above 2 before
    /// exec, so no task inherits another task's pipe, a log file or the database); an
    /// empty signal mask and default signal dispositions; exactly `request.environment`.
    ///
    /// Throws before anything runs when the command is not found or not executable, or
    /// the working directory is unusable; nothing is left open when it throws.
    public func spawn(_ request: SpawnRequest) throws(SpawnError) -> Int32 {
        guard let command = request.argv.first, !command.isEmpty else {
            throw .invalidArgument("empty command (argv[0] is missing or empty)")
        }
        if let directory = request.workingDirectory {
            try Self.checkWorkingDirectory(directory)
        }
        let searchPath = request.environment["PATH"]
        var (executable, cached) = try executables.resolve(
            command, searchPath: searchPath, workingDirectory: request.workingDirectory, now: .now)
        let argv = try CStringArray(arguments: request.argv)
        let envp = try CStringArray(environment: request.environment)

        var pipeEnds: (read: Int32, write: Int32) = (-1, -1)
        let pipeResult = withUnsafeMutablePointer(to: &pipeEnds) {
            $0.withMemoryRebound(to: Int32.self, capacity: 2) { baton_pipe_cloexec($0) }
        }
        guard pipeResult == 0 else {
            throw .system("pipe2", errno)
        }
        let writeEnd = Self.movedAboveStandardDescriptors(pipeEnds.write)
        var input: (read: Int32, write: Int32) = (devNullFD, -1)
        if let bytes = request.input {
            var ends: (read: Int32, write: Int32) = (-1, -1)
            let result = withUnsafeMutablePointer(to: &ends) { ends in
                bytes.withUnsafeBytes { data in
                    ends.withMemoryRebound(to: Int32.self, capacity: 2) {
                        baton_input_pipe($0, data.baseAddress, data.count)
                    }
                }
            }
            guard result == 0 else {
                close(writeEnd)
                close(pipeEnds.read)
                throw result == EMSGSIZE
                    ? .invalidArgument("the input of \(command) (\(bytes.count) bytes) does not fit in a pipe")
                    : .system("pipe2 (stdin)", result)
            }
            input = (Self.movedAboveStandardDescriptors(ends.read), ends.write)
        }
        defer { if input.read != devNullFD { close(input.read) } }

        var pid: pid_t = 0
        var clonedPidFD: Int32 = -1
        var spawnResult = spawnProcess(
            &pid, &clonedPidFD, executable: executable, argv: argv, envp: envp, stdinFD: input.read,
            stdoutFD: writeEnd, workingDirectory: request.workingDirectory)
        var retryDelay: UInt32 = 1_000
        while spawnResult != 0 {
            if cached {
                // A second-old search may be stale (the file was removed or replaced since):
                // the outcome, success or error, is that of a fresh one.
                executables.forget(command, searchPath: searchPath, workingDirectory: request.workingDirectory)
                do {
                    (executable, cached) = try executables.resolve(
                        command, searchPath: searchPath, workingDirectory: request.workingDirectory, now: .now)
                } catch {
                    close(writeEnd)
                    close(pipeEnds.read)
                    if input.write >= 0 { close(input.write) }
                    throw error
                }
            } else if spawnResult == ETXTBSY && retryDelay <= 16_000 {
                // The file is open for writing somewhere. The classic cause is this very
                // server: a thread that just wrote the script, and a child forked meanwhile by
                // another thread holding a copy of that descriptor until its own exec. It
                // clears within microseconds, so retry briefly (at most ~30 ms).
                usleep(retryDelay)
                retryDelay *= 2
            } else {
                break
            }
            spawnResult = spawnProcess(
                &pid, &clonedPidFD, executable: executable, argv: argv, envp: envp, stdinFD: input.read,
                stdoutFD: writeEnd, workingDirectory: request.workingDirectory)
        }
        // The child has its own copies on fds 1 and 2 now; ours would keep the pipe from
        // ever reaching EOF.
        close(writeEnd)
        guard spawnResult == 0 else {
            close(pipeEnds.read)
            if input.write >= 0 { close(input.write) }
            throw Self.spawnError(
                spawnResult, command: command, executable: executable,
                workingDirectory: request.workingDirectory)
        }

        // pidfd_open(2) on a child that already exited still works (it is a zombie until
        // we reap it) and polls readable at once. Without pidfds (ENOSYS before Linux 5.3,
        // or EMFILE) the child is watched by the waitid sweep of poll(until:).
        // The clone may have handed one out already (clone3 CLONE_PIDFD).
        let pidFD = usesPidFDs ? (clonedPidFD >= 0 ? clonedPidFD : baton_pidfd_open(pid)) : -1
        if pidFD < 0 { childrenWithoutPidFD += 1 }
        // Watched from now on. Adding fresh descriptors fails only for lack of kernel memory
        // or of epoll watches (fs.epoll.max_user_watches): an unwatched pipe would fill and
        // block the child, so the spawn is undone.
        guard baton_epoll_add(epollFD, pipeEnds.read, EventKey.output(pid)) == 0 else {
            let code = errno
            _ = kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            for fd in [pipeEnds.read, pidFD, input.write] where fd >= 0 { close(fd) }
            if pidFD < 0 { childrenWithoutPidFD -= 1 }
            throw .system("epoll_ctl (output of \(command))", code)
        }
        var watchedPidFD = pidFD
        if pidFD >= 0 && baton_epoll_add(epollFD, pidFD, EventKey.exit(pid)) != 0 {
            // The exit is then found by the waitid sweep, as without pidfds.
            close(pidFD)
            watchedPidFD = -1
            childrenWithoutPidFD += 1
        }
        let child = ChildProcess(
            tag: request.tag, pid: pid, pidFD: watchedPidFD, pipeFD: pipeEnds.read,
            log: LogPump(path: request.logPath, cap: request.logCapBytes))
        child.inputFD = input.write
        children[pid] = child
        return pid
    }

    /// `baton_spawn` (vfork and exec, as posix_spawn(3) does, plus PR_SET_PDEATHSIG so that
    /// a task dies with its server). Returns 0 or an error number: the exec's own failure
    /// (ENOENT, EACCES, ENOEXEC) or the chdir's, the failed child reaped.
    private func spawnProcess(
        _ pid: inout pid_t, _ pidFD: inout Int32, executable: String, argv: borrowing CStringArray,
        envp: borrowing CStringArray, stdinFD: Int32, stdoutFD: Int32, workingDirectory: String?
    ) -> Int32 {
        guard usesPidFDs else {
            return spawnProcess(
                &pid, nil, executable: executable, argv: argv, envp: envp, stdinFD: stdinFD, stdoutFD: stdoutFD,
                workingDirectory: workingDirectory)
        }
        return withUnsafeMutablePointer(to: &pidFD) { pidFD in
            spawnProcess(
                &pid, pidFD, executable: executable, argv: argv, envp: envp, stdinFD: stdinFD, stdoutFD: stdoutFD,
                workingDirectory: workingDirectory)
        }
    }

    private func spawnProcess(
        _ pid: inout pid_t, _ pidFD: UnsafeMutablePointer<Int32>?, executable: String,
        argv: borrowing CStringArray, envp: borrowing CStringArray, stdinFD: Int32, stdoutFD: Int32,
        workingDirectory: String?
    ) -> Int32 {
        if let workingDirectory {
            return workingDirectory.withCString { directory in
                baton_spawn(&pid, pidFD, executable, argv.pointers, envp.pointers, stdinFD, stdoutFD, directory)
            }
        }
        return baton_spawn(&pid, pidFD, executable, argv.pointers, envp.pointers, stdinFD, stdoutFD, nil)
    }

    private static func spawnError(
        _ code: Int32, command: String, executable: String, workingDirectory: String?
    ) -> SpawnError {
        switch code {
        case ENOENT, ENOTDIR:
            // execve(2) also says ENOENT when the file exists but the interpreter named
            // by its `#!` line does not: tell that apart from a missing command.
            var path = executable
            if let workingDirectory, !executable.hasPrefix("/") { path = workingDirectory + "/" + executable }
            if access(path, F_OK) == 0 {
                return .system("exec \(executable) (is the interpreter of its #! line missing?)", code)
            }
            return .commandNotFound(command)
        case EACCES: return .permissionDenied(executable)
        default: return .system("spawn \(executable)", code)
        }
    }

    /// Checked before spawning: the spawn would report a failed chdir with the same
    /// ENOENT/EACCES as a failed exec, and the two must read differently.
    static func checkWorkingDirectory(_ path: String) throws(SpawnError) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, access(path, X_OK) == 0
        else { throw .badWorkingDirectory(path) }
    }

    /// Opens (creating it and its parent directories) the log for appending.
    static func openLog(_ path: String) throws(SpawnError) -> Int32 {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
        var fd = open(path, flags, 0o644)
        if fd < 0 && errno == ENOENT {
            makeParentDirectories(of: path)
            fd = open(path, flags, 0o644)
        }
        guard fd >= 0 else { throw .system("open log \(path)", errno) }
        return fd
    }

    /// `mkdir -p "$(dirname path)"`; failures surface as the open's error.
    private static func makeParentDirectories(of path: String) {
        let bytes = Array(path.utf8)
        var end = 1
        while end < bytes.count {
            if bytes[end] == UInt8(ascii: "/") {
                let prefix = String(decoding: bytes[..<end], as: UTF8.self)
                _ = mkdir(prefix, 0o755)
            }
            end += 1
        }
    }
}
