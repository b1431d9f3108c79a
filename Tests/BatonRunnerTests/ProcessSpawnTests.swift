import CBatonSys
import Foundation
import Glibc
import Synchronization
import Testing

@testable import BatonRunner

/// What a spawned child gets (argv, environment, directory, descriptors, signals), what
/// its exit reports, and the errors of a spawn that cannot happen.
@Suite struct ProcessSpawnTests {
    typealias T = ProcessTestSupport

    @Test("exit codes are reported", arguments: [true, false])
    func exitCodes(usesPidFDs: Bool) throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor(usesPidFDs: usesPidFDs)
        var expected: [UInt64: Int32] = [:]
        for (tag, (argv, code)) in [
            (["sh", "-c", "exit 7"], Int32(7)), (["true"], 0), (["false"], 1), (["sh", "-c", "exit 255"], 255),
        ].enumerated() {
            _ = try reactor.spawn(T.request(argv, tag: UInt64(tag), log: "\(dir)/\(tag).log"))
            expected[UInt64(tag)] = code
        }
        let exits = T.collectExits(reactor, count: expected.count)
        #expect(exits.count == expected.count)
        for exit in exits {
            #expect(exit.exitCode == expected[exit.tag], "tag \(exit.tag)")
            #expect(exit.signal == nil)
        }
        #expect(reactor.liveCount == 0)
    }

    @Test("a terminating signal is reported instead of an exit code")
    func signals() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let pid = try reactor.spawn(T.request(["sh", "-c", "kill -KILL $$"], tag: 9, log: "\(dir)/k.log"))
        _ = try reactor.spawn(T.request(["sh", "-c", "kill -TERM $$"], tag: 15, log: "\(dir)/t.log"))
        let exits = T.collectExits(reactor, count: 2).sorted { $0.tag < $1.tag }
        #expect(exits.map(\.signal) == [SIGKILL, SIGTERM])
        #expect(exits.map(\.exitCode) == [nil, nil])
        #expect(exits.first?.pid == pid)
    }

    @Test("stdout and stderr land, in order, in one log")
    func outputGoesToLog() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/out.log"
        _ = try reactor.spawn(T.request(["sh", "-c", "echo out; echo err >&2; echo out2"], log: log))
        let exits = T.collectExits(reactor, count: 1)
        #expect(T.contents(log) == "out\nerr\nout2\n")
        #expect(exits.first?.logBytes == 13)
    }

    @Test("the log is capped with one marker line; the child is still drained to its end")
    func logCap() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/big.log"
        // 4 MiB: far more than a pipe holds, so the child finishes only if we keep reading.
        _ = try reactor.spawn(T.request(["head", "-c", "4194304", "/dev/zero"], log: log, cap: 1000))
        let exits = T.collectExits(reactor, count: 1)
        #expect(exits.first?.exitCode == 0, "the child must not be blocked or killed by the cap")
        let data = try Data(contentsOf: URL(fileURLWithPath: log))
        let marker = "\n[baton: log truncated at 1000 bytes]\n"
        #expect(data.count == 1000 + marker.utf8.count)
        #expect(data.prefix(1000).allSatisfy { $0 == 0 })
        #expect(String(decoding: data.dropFirst(1000), as: UTF8.self) == marker)
        #expect(exits.first?.logBytes == data.count)
    }

    @Test("output exactly at the cap gets no marker")
    func outputAtCapIsNotTruncated() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/exact.log"
        _ = try reactor.spawn(T.request(["printf", "abc"], log: log, cap: 3))
        _ = T.collectExits(reactor, count: 1)
        #expect(T.contents(log) == "abc")
    }

    @Test("the log's parent directories are created and the log is appended to")
    func logIsCreatedAndAppended() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/runs/r1/task.1.log"
        _ = try reactor.spawn(T.request(["echo", "one"], log: log))
        _ = T.collectExits(reactor, count: 1)
        _ = try reactor.spawn(T.request(["echo", "two"], log: log))
        _ = T.collectExits(reactor, count: 1)
        #expect(T.contents(log) == "one\ntwo\n")
    }

    @Test("the child's environment is exactly the one requested")
    func environmentIsComplete() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/env.log"
        let environment = ["PATH": "/usr/bin:/bin", "BATON_X": "a b=c", "EMPTY": "", "ÜNÏ": "✓"]
        _ = try reactor.spawn(T.request(["env"], log: log, environment: environment))
        _ = T.collectExits(reactor, count: 1)
        let lines = Set(T.contents(log).split(separator: "\n").map(String.init))
        #expect(lines == Set(environment.map { "\($0.key)=\($0.value)" }))
    }

    @Test("a task runs at the server's nice value even when the spawning thread was raised")
    func tasksDoNotInheritARaisedPriority() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let log = "\(dir)/nice.log"
        let serverNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))
        // The executor's thread runs at nice -5 where allowed (Executor.start): so does
        // this one. Without CAP_SYS_NICE nothing is raised and the check still holds.
        let spawned = Mutex<Result<ChildExit?, any Error>>(.success(nil))
        let raised = Mutex(false)
        let thread = Thread {
            raised.withLock { $0 = SchedulingPriority.raiseCurrentThread() == nil }
            do {
                let reactor = try ChildReactor()
                _ = try reactor.spawn(T.request(["sh", "-c", "cut -d' ' -f19 /proc/self/stat"], log: log))
                spawned.withLock { $0 = .success(T.collectExits(reactor, count: 1).first) }
            } catch {
                spawned.withLock { $0 = .failure(error) }
            }
        }
        thread.start()
        let deadline = Date() + 30
        while (try? spawned.withLock { try $0.get() }) == nil && Date() < deadline { usleep(10_000) }
        let exit = try spawned.withLock { try $0.get() }
        #expect(exit?.exitCode == 0)
        #expect(T.contents(log) == "\(serverNice)\n", "raised: \(raised.withLock { $0 })")
    }

    @Test("the working directory applies, also to a relative executable path")
    func workingDirectory() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        try "#!/bin/sh\npwd -P\n".write(toFile: "\(dir)/tool.sh", atomically: true, encoding: .utf8)
        chmod("\(dir)/tool.sh", 0o755)
        let reactor = try ChildReactor()
        _ = try reactor.spawn(T.request(["sh", "-c", "pwd -P"], tag: 1, log: "\(dir)/a.log", workingDirectory: dir))
        _ = try reactor.spawn(T.request(["./tool.sh"], tag: 2, log: "\(dir)/b.log", workingDirectory: dir))
        let exits = T.collectExits(reactor, count: 2)
        #expect(exits.map(\.exitCode) == [0, 0])
        #expect(T.contents("\(dir)/a.log") == dir + "\n")
        #expect(T.contents("\(dir)/b.log") == dir + "\n")
    }

    @Test("a list command is an argv: no shell expands anything")
    func argvWithoutShell() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/argv.log"
        let args = ["a b", "$HOME", "*", "; echo injected", "'q'", "", "é"]
        _ = try reactor.spawn(T.request(["printf", "[%s]"] + args, log: log))
        _ = T.collectExits(reactor, count: 1)
        #expect(T.contents(log) == args.map { "[\($0)]" }.joined())
    }

    @Test("argv[0] is looked up in the child's PATH, not the server's")
    func lookupUsesChildPath() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        mkdir("\(dir)/bin", 0o755)
        try "#!/bin/sh\necho hello from baton\n".write(
            toFile: "\(dir)/bin/hello-baton", atomically: true, encoding: .utf8)
        chmod("\(dir)/bin/hello-baton", 0o755)
        let reactor = try ChildReactor()
        let log = "\(dir)/hello.log"
        _ = try reactor.spawn(
            T.request(["hello-baton"], log: log, environment: ["PATH": "/nonexistent:\(dir)/bin:/bin"]))
        let exits = T.collectExits(reactor, count: 1)
        #expect(exits.first?.exitCode == 0)
        #expect(T.contents(log) == "hello from baton\n")

        #expect(throws: SpawnError.commandNotFound("sh")) {
            try reactor.spawn(T.request(["sh", "-c", "true"], log: log, environment: ["PATH": "/nonexistent"]))
        }
    }

    @Test("a PATH search kept from the last second never runs or reports a command that changed since")
    func keptLookupIsNeverStale() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        for sub in ["early", "late"] { mkdir("\(dir)/\(sub)", 0o755) }
        let environment = ["PATH": "\(dir)/early:\(dir)/late"]
        func install(_ path: String, says word: String) throws {
            try "#!/bin/sh\necho \(word)\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        let reactor = try ChildReactor()
        func run(_ tag: UInt64) throws -> String {
            let log = "\(dir)/\(tag).log"
            _ = try reactor.spawn(T.request(["kept-tool"], tag: tag, log: log, environment: environment))
            #expect(T.collectExits(reactor, count: 1).first?.exitCode == 0)
            return T.contents(log)
        }
        try install("\(dir)/early/kept-tool", says: "early")
        #expect(try run(1) == "early\n")
        // Removed: the kept path fails its exec, a fresh search finds the other one.
        unlink("\(dir)/early/kept-tool")
        try install("\(dir)/late/kept-tool", says: "late")
        #expect(try run(2) == "late\n")
        // Removed everywhere: "command not found", as without the cache.
        unlink("\(dir)/late/kept-tool")
        #expect(throws: SpawnError.commandNotFound("kept-tool")) {
            try reactor.spawn(T.request(["kept-tool"], tag: 3, log: "\(dir)/3.log", environment: environment))
        }
        // Back, but not executable: "permission denied".
        try install("\(dir)/late/kept-tool", says: "late")
        #expect(try run(4) == "late\n")
        chmod("\(dir)/late/kept-tool", 0o644)
        #expect(throws: SpawnError.permissionDenied("\(dir)/late/kept-tool")) {
            try reactor.spawn(T.request(["kept-tool"], tag: 5, log: "\(dir)/5.log", environment: environment))
        }
        #expect(reactor.liveCount == 0)
    }

    @Test("an unknown command is a clear error and starts nothing")
    func commandNotFound() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/x.log"
        let error = #expect(throws: SpawnError.self) {
            try reactor.spawn(T.request(["baton-no-such-command", "arg"], log: log))
        }
        #expect(error == .commandNotFound("baton-no-such-command"))
        #expect(error?.description == "command not found: baton-no-such-command")
        #expect(throws: SpawnError.commandNotFound("/nonexistent/tool")) {
            try reactor.spawn(T.request(["/nonexistent/tool"], log: log))
        }
        #expect(reactor.liveCount == 0)
    }

    @Test("a script whose #! interpreter is missing is not 'command not found'")
    func missingInterpreter() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        try "#!/nonexistent/interpreter\n".write(toFile: "\(dir)/script", atomically: true, encoding: .utf8)
        chmod("\(dir)/script", 0o755)
        let reactor = try ChildReactor()
        let error = #expect(throws: SpawnError.self) {
            try reactor.spawn(T.request(["./script"], log: "\(dir)/x.log", workingDirectory: dir))
        }
        #expect(error?.description.contains("interpreter") == true, "\(String(describing: error))")
        #expect(reactor.liveCount == 0)
    }

    @Test("a file without execute permission is 'permission denied'")
    func permissionDenied() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        mkdir("\(dir)/bin", 0o755)
        try "#!/bin/sh\necho no\n".write(toFile: "\(dir)/bin/noexec", atomically: true, encoding: .utf8)
        chmod("\(dir)/bin/noexec", 0o644)
        let reactor = try ChildReactor()
        let log = "\(dir)/x.log"
        let viaPath = #expect(throws: SpawnError.self) {
            try reactor.spawn(T.request(["noexec"], log: log, environment: ["PATH": "\(dir)/bin"]))
        }
        #expect(viaPath == .permissionDenied("\(dir)/bin/noexec"))
        #expect(viaPath?.description.hasPrefix("permission denied") == true)
        #expect(throws: SpawnError.permissionDenied("\(dir)/bin/noexec")) {
            try reactor.spawn(T.request(["\(dir)/bin/noexec"], log: log))
        }
        #expect(reactor.liveCount == 0)
    }

    @Test("a missing or non-directory working directory is its own error")
    func badWorkingDirectory() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/x.log"
        #expect(throws: SpawnError.badWorkingDirectory("\(dir)/missing")) {
            try reactor.spawn(T.request(["true"], log: log, workingDirectory: "\(dir)/missing"))
        }
        try "".write(toFile: "\(dir)/file", atomically: true, encoding: .utf8)
        #expect(throws: SpawnError.badWorkingDirectory("\(dir)/file")) {
            try reactor.spawn(T.request(["true"], log: log, workingDirectory: "\(dir)/file"))
        }
        #expect(reactor.liveCount == 0)
    }

    @Test("argv and environment that execve cannot carry are rejected")
    func invalidArguments() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/x.log"
        #expect(throws: SpawnError.self) { try reactor.spawn(T.request([], log: log)) }
        #expect(throws: SpawnError.self) { try reactor.spawn(T.request(["echo", "a\0b"], log: log)) }
        #expect(throws: SpawnError.self) {
            try reactor.spawn(T.request(["true"], log: log, environment: ["A=B": "x"]))
        }
        #expect(throws: SpawnError.self) {
            try reactor.spawn(T.request(["true"], log: log, environment: ["PATH": "/bin", "": "x"]))
        }
        #expect(reactor.liveCount == 0)
    }

    @Test(
        "a child inherits only stdin (/dev/null), stdout and stderr",
        arguments: ["shared, then unshared, table", "copied table"])
    func noDescriptorLeaksIntoChildren(table: String) throws {
        // The copied table is the fallback where close_range cannot unshare.
        try T.withSpawnPath(baton_spawn_shares_files, enabled: table != "copied table") {
            try expectOnlyStandardDescriptorsInChildren()
            // Linux 5.9 and later: the shared path was taken, not given up for copies.
            #expect(table == "copied table" || baton_spawn_shares_files(-1) == 1, "close_range could not unshare")
        }
    }

    private func expectOnlyStandardDescriptorsInChildren() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        // A descriptor some library opened without O_CLOEXEC, high up.
        let leaky = fcntl(STDERR_FILENO, F_DUPFD, 900)
        #expect(leaky >= 900)
        defer { close(leaky) }
        let reactor = try ChildReactor()
        // A live sibling: its pipe, log and pidfd are open in the server meanwhile.
        let sibling = try reactor.spawn(T.request(["sleep", "1000"], tag: 0, log: "\(dir)/sibling.log"))
        // ls opens the directory it lists itself: that is the 3.
        _ = try reactor.spawn(T.request(["ls", "/proc/self/fd"], tag: 1, log: "\(dir)/fds.log"))
        _ = try reactor.spawn(T.request(["readlink", "/proc/self/fd/0"], tag: 2, log: "\(dir)/stdin.log"))
        let exits = T.collectExits(reactor, count: 2)
        #expect(exits.map(\.exitCode) == [0, 0])
        #expect(Set(T.contents("\(dir)/fds.log").split(separator: "\n")) == ["0", "1", "2", "3"])
        #expect(T.contents("\(dir)/stdin.log") == "/dev/null\n")
        reactor.signalGroup(pid: sibling, SIGKILL)
        #expect(T.collectExits(reactor, count: 1).first?.signal == SIGKILL)
    }

    /// The signal tests change the process's own dispositions (SIGWINCH ignored for over a
    /// second), which a child spawned meanwhile by another of them inherits: they run one
    /// at a time, also the cases of one test. Other suites' children never look.
    @Suite(.serialized) struct SignalDispositions {
        @Test("children start with no blocked and no ignored signal, whatever the server does")
        func signalStateIsReset() throws {
            let dir = try T.makeTempDirectory()
            defer { T.removeDirectory(dir) }
            // What a Swift server typically does: ignore SIGPIPE, block signals on its threads.
            signal(SIGPIPE, SIG_IGN)
            var block = sigset_t()
            var previous = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGUSR1)
            sigaddset(&block, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &block, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

            let reactor = try ChildReactor()
            let log = "\(dir)/sig.log"
            _ = try reactor.spawn(T.request(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"], log: log))
            _ = T.collectExits(reactor, count: 1)
            let masks = Dictionary(
                uniqueKeysWithValues: T.contents(log).split(separator: "\n").map { line in
                    let parts = line.split(separator: "\t")
                    return (String(parts[0]), UInt64(parts[1], radix: 16) ?? .max)
                })
            #expect(masks["SigBlk:"] == 0)
            // Signals 1-31 (bit n-1 for signal n). glibc's posix_spawn leaves its own internal
            // signals 32 and 33 (SIGCANCEL, SIGSETXID) ignored; a glibc program reinstalls
            // its handlers for them, and sigaddset(3) refuses to name them anyway.
            #expect(masks["SigIgn:"].map { $0 & 0x7fff_ffff } == 0)
        }

        @Test(
            "signals the server ignores or handles at any time are at their default in a child",
            arguments: ["clone3", "vfork"])
        func ignoredAndHandledSignalsAreDefaulted(clone: String) throws {
            // The vfork path is the fallback where clone3 is missing or filtered.
            try T.withSpawnPath(baton_spawn_uses_clone3, enabled: clone == "clone3") {
                try expectIgnoredAndHandledSignalsDefaulted()
            }
        }

        private func expectIgnoredAndHandledSignalsDefaulted() throws {
            let dir = try T.makeTempDirectory()
            defer { T.removeDirectory(dir) }
            let reactor = try ChildReactor()
            func dispositions(_ tag: UInt64) -> [String: UInt64] {
                let log = "\(dir)/\(tag).log"
                _ = try? reactor.spawn(T.request(["grep", "^SigIgn", "/proc/self/status"], tag: tag, log: log))
                _ = T.collectExits(reactor, count: 1)
                return Dictionary(
                    uniqueKeysWithValues: T.contents(log).split(separator: "\n").map { line in
                        let parts = line.split(separator: "\t")
                        return (String(parts[0]), (UInt64(parts[1], radix: 16) ?? .max) & 0x7fff_ffff)
                    })
            }
            #expect(dispositions(1)["SigIgn:"] == 0)
            // Changed right before a spawn (a child reads the ignored ones at most a second
            // old, except these usual ones, which it always defaults): SIGHUP as nohup does,
            // SIGQUIT as a background job gets, SIGUSR2 and SIGWINCH at random; a handler on
            // SIGUSR1 (handlers never survive exec anyway).
            let changed: [(Int32, sighandler_t?)] = [
                (SIGHUP, SIG_IGN), (SIGQUIT, SIG_IGN), (SIGUSR2, SIG_IGN), (SIGUSR1, { _ in }),
            ]
            var previous: [(Int32, sighandler_t?)] = []
            for (number, handler) in changed { previous.append((number, signal(number, handler))) }
            defer { for (number, handler) in previous { signal(number, handler) } }
            let now = dispositions(2)
            #expect(now["SigIgn:"] == 0, "\(now)")
            // Any other ignored signal is defaulted too once the second has passed.
            let old = signal(SIGWINCH, SIG_IGN)
            defer { signal(SIGWINCH, old) }
            usleep(1_100_000)
            #expect(dispositions(3)["SigIgn:"] == 0)
            #expect(reactor.liveCount == 0)
        }
    }
}
