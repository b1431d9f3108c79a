import Foundation
import Glibc

/// A real OpenSSH server (Debian `openssh-server`, which CI installs) on a free loopback
/// port, for the remote-task tests: a host key and a user key generated in a scratch
/// directory, public-key login only, for the user running the tests.
final class SSHServer: @unchecked Sendable {
    static let daemon = "/usr/sbin/sshd"
    static let keygen = "/usr/bin/ssh-keygen"

    /// sshd and the client tools are installed, and this is root (sshd's privilege
    /// separation needs it to log anyone in).
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: daemon)
            && FileManager.default.isExecutableFile(atPath: keygen)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")
    }

    let directory: String
    let port: Int
    let user: String
    /// The listener (`sshd -D`), spawned and reaped here (see ``spawn(_:_:stderr:)``).
    private let pid: pid_t
    private var reaped = false

    var identityFile: String { directory + "/id_ed25519" }
    var knownHostsFile: String { directory + "/known_hosts" }
    var pidFile: String { directory + "/sshd.pid" }

    /// The `ssh:` target of a task that logs in to this server.
    var target: [String: Any] {
        ["host": "127.0.0.1", "port": port, "user": user, "identity_file": identityFile, "known_hosts": knownHostsFile]
    }

    init(scratch: Scratch) throws {
        directory = scratch.path("sshd")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // sshd's privilege separation directory (Debian creates it at boot, not at install).
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        chmod("/run/sshd", 0o755)
        for key in ["host_ed25519", "id_ed25519"] {
            try Self.run(
                Self.keygen, ["-q", "-t", "ed25519", "-N", "", "-C", "baton-test", "-f", directory + "/" + key])
        }
        try FileManager.default.copyItem(atPath: directory + "/id_ed25519.pub", toPath: directory + "/authorized_keys")
        user = String(cString: getpwuid(getuid()).pointee.pw_name)
        port = try Self.freePort()
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_ed25519
            AuthorizedKeysFile \(directory)/authorized_keys
            PidFile \(directory)/sshd.pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            LogLevel ERROR

            """
        try config.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        let hostKey = try String(contentsOfFile: directory + "/host_ed25519.pub", encoding: .utf8)
        try "[127.0.0.1]:\(port) \(hostKey)".write(
            toFile: directory + "/known_hosts", atomically: true, encoding: .utf8)

        pid = try Self.spawn(
            Self.daemon, ["-D", "-e", "-f", directory + "/sshd_config"], stderr: directory + "/sshd.log")
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? RawSocket(port: port)) == nil {
            var status: Int32 = 0
            let exited = waitpid(pid, &status, WNOHANG) == pid
            if exited { reaped = true }
            guard !exited, ContinuousClock.now < deadline else {
                stop()
                let log = (try? String(contentsOfFile: directory + "/sshd.log", encoding: .utf8)) ?? ""
                throw E2EError("sshd did not start on port \(port): \(log)")
            }
            usleep(20_000)
        }
    }

    deinit { stop() }

    func stop() {
        guard !reaped else { return }
        reaped = true
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// The per-connection sshd processes (children of the listener): killing them drops
    /// every open connection.
    func sessionProcesses() -> [pid_t] {
        ProcessTable.allPIDs().filter { ProcessTable.entry($0)?.ppid == pid }
    }

    /// A port nothing listens on right now (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw E2EError("no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `tool` to completion.
    static func run(_ tool: String, _ arguments: [String]) throws {
        let pid = try spawn(tool, arguments, stderr: "/dev/null")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw E2EError("\(tool) \(arguments) failed (wait status \(status))") }
    }

    /// Starts `tool` with stdin from /dev/null and stderr to `stderr`. posix_spawn and
    /// waitpid on the pid, not Foundation's `Process`: its exit monitoring was seen to
    /// leave these children unreaped (and `waitUntilExit` hanging) in this suite.
    static func spawn(_ tool: String, _ arguments: [String], stderr: String) throws -> pid_t {
        let words = [tool] + arguments
        var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for word in argv { free(word) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var pid: pid_t = 0
        let result = posix_spawn(&pid, tool, &actions, nil, &argv, environ)
        guard result == 0 else { throw E2EError("\(tool): \(String(cString: strerror(result)))") }
        return pid
    }
}
