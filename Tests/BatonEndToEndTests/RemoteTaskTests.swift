import Foundation
import Glibc
import Testing

/// Remote tasks (`ssh:`) against a real sshd on a loopback port (SSHServer): output and exit
/// status come back, the environment goes there, and a timeout, a cancel or a dropped
/// connection stops the REMOTE process group, checked on the remote side (this machine).
@Suite(.enabled(if: SSHServer.isAvailable, "needs root, openssh-server and openssh-client"))
struct RemoteTaskTests {
    /// Live processes whose command line is exactly `words`.
    static func processes(running words: [String]) -> [pid_t] {
        ProcessTable.allPIDs().filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
                return false
            }
            let arguments = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
                String(decoding: $0, as: UTF8.self)
            }
            return arguments == words && ProcessTable.isAlive(pid)
        }
    }

    func log(_ server: TestServer, _ id: String, _ task: String) async throws -> String {
        try await server.client.get("/v1/runs/\(id)/tasks/\(task)/log").text
    }

    @Test func aRemoteTaskRunsThereWithItsEnvironmentDirectoryAndExitCode() async throws {
        try await withTestServer { server in
            let sshd = try SSHServer(scratch: server.scratch)
            let created = try await server.submit([
                "mode": "waitall", "ssh_hosts": ["box": sshd.target],
                "env": ["GREETING": "it's \"quoted\"\nand on two lines"],
                "tasks": [
                    [
                        "name": "shell", "ssh": "box", "env": ["bad-name": "x"],
                        "command": "echo \"as $BATON_TASK/$BATON_ATTEMPT: $GREETING\"; echo to-stderr >&2; exit 3",
                    ],
                    ["name": "argv", "ssh": sshd.target, "command": ["printf", "%s|", "a b", "c'd", "$HOME"]],
                    ["name": "where", "ssh": "box", "cwd": "/usr", "command": "pwd"],
                ],
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForRun(id)
            #expect(task(run, "shell")?["status"] as? String == "failed", "\(run)")
            #expect(task(run, "shell")?["exit_code"] as? Int == 3)
            #expect(task(run, "shell")?["reason"] as? String == "exit code 3")
            let shell = try await log(server, id, "shell")
            #expect(shell.contains("as shell/1: it's \"quoted\"\nand on two lines\n"), "\(shell)")
            #expect(shell.contains("to-stderr"))
            #expect(shell.contains("baton: env bad-name is not a shell name; not passed to 127.0.0.1"), "\(shell)")
            #expect(task(run, "argv")?["status"] as? String == "succeeded", "\(run)")
            let argv = try await log(server, id, "argv")
            #expect(argv == "a b|c'd|$HOME|", "\(argv)")
            let directory = try await log(server, id, "where")
            #expect(directory == "/usr\n", "\(directory)")
            withExtendedLifetime(sshd) {}
        }
    }

    /// A timeout or a cancel kills the local ssh; the remote wrapper sees its connection go
    /// and stops the whole remote group (a background job included).
    @Test(arguments: ["timeout", "cancel"])
    func stoppingARemoteTaskStopsTheRemoteProcessGroup(_ how: String) async throws {
        let seconds = how == "timeout" ? "3017" : "3027"
        let background = ["sleep", seconds]
        let foreground = ["sleep", String(Int(seconds)! + 1)]
        try await withTestServer { server in
            let sshd = try SSHServer(scratch: server.scratch)
            var remote: [String: Any] = [
                "name": "remote", "ssh": sshd.target,
                "command": "sleep \(background[1]) & sleep \(foreground[1]); wait",
            ]
            // Long enough for a loaded machine to see both sleeps start first.
            if how == "timeout" { remote["timeout_seconds"] = 12 }
            let created = try await server.submit(["kill_grace_seconds": 1, "tasks": [remote]])
            let id = try #require(created["id"] as? String)
            try await waitUntil("both remote sleeps to run", within: .seconds(20)) {
                !Self.processes(running: background).isEmpty && !Self.processes(running: foreground).isEmpty
            }
            // They run under sshd, not under the server: the server's own containment
            // cannot reach them, only the remote wrapper can.
            let serverPID = try server.process.pid
            for pid in Self.processes(running: background) {
                #expect(ProcessTable.entry(pid)?.ppid != serverPID)
            }
            if how == "cancel" {
                #expect(try await server.client.post("/v1/runs/\(id)/cancel").status == 202)
            }
            let run = try await server.waitForRun(id, within: .seconds(30))
            #expect(task(run, "remote")?["status"] as? String == (how == "timeout" ? "timed_out" : "cancelled"))
            try await waitUntil("the remote group to be stopped", within: .seconds(10)) {
                Self.processes(running: background).isEmpty && Self.processes(running: foreground).isEmpty
            }
            withExtendedLifetime(sshd) {}
        }
    }

    @Test func aDroppedConnectionFailsTheTaskAndStopsTheRemoteSide() async throws {
        let sleeper = ["sleep", "3037"]
        try await withTestServer { server in
            let sshd = try SSHServer(scratch: server.scratch)
            let created = try await server.submit([
                "kill_grace_seconds": 1, "tasks": [["name": "remote", "ssh": sshd.target, "command": "sleep 3037"]],
            ])
            let id = try #require(created["id"] as? String)
            try await waitUntil("the remote sleep to run", within: .seconds(20)) {
                !Self.processes(running: sleeper).isEmpty
            }
            for pid in sshd.sessionProcesses() { kill(pid, SIGKILL) }
            let run = try await server.waitForRun(id, within: .seconds(30))
            let remote = try #require(task(run, "remote"))
            #expect(remote["status"] as? String == "failed", "\(run)")
            #expect(remote["exit_code"] as? Int == 255)
            #expect(remote["reason"] as? String == "ssh: connection lost", "\(remote)")
            try await waitUntil("the remote sleep to be stopped", within: .seconds(10)) {
                Self.processes(running: sleeper).isEmpty
            }
        }
    }

    @Test func connectionFailuresHaveTheirOwnReasonAndAreRetriedOn255() async throws {
        try await withTestServer { server in
            let closedPort = try SSHServer.freePort()
            let created = try await server.submit([
                "tasks": [
                    [
                        "name": "refused", "ssh": ["host": "127.0.0.1", "port": closedPort], "command": "true",
                        "retries": 1, "retry_exit_codes": [255],
                    ]
                ]
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForRun(id)
            let refused = try #require(task(run, "refused"))
            #expect(refused["status"] as? String == "failed", "\(run)")
            #expect(refused["reason"] as? String == "ssh: connection refused", "\(refused)")
            #expect(refused["exit_code"] as? Int == 255)
            #expect(refused["attempt"] as? Int == 2, "retried once on exit code 255")
        }
    }

    @Test func anUnknownHostKeyIsRefusedBeforeAnythingRuns() async throws {
        try await withTestServer { server in
            let sshd = try SSHServer(scratch: server.scratch)
            // known_hosts names another key for the server's address.
            try SSHServer.run(
                SSHServer.keygen, ["-q", "-t", "ed25519", "-N", "", "-f", server.scratch.path("other")])
            let other = try String(contentsOfFile: server.scratch.path("other.pub"), encoding: .utf8)
            try "[127.0.0.1]:\(sshd.port) \(other)".write(
                toFile: server.scratch.path("wrong_known_hosts"), atomically: true, encoding: .utf8)
            var target = sshd.target
            target["known_hosts"] = server.scratch.path("wrong_known_hosts")
            let created = try await server.submit([
                "tasks": [["name": "spoofed", "ssh": target, "command": "touch \"$DIR/ran\""]]
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForRun(id)
            let spoofed = try #require(task(run, "spoofed"))
            #expect(spoofed["status"] as? String == "failed")
            #expect(spoofed["reason"] as? String == "ssh: host key verification failed", "\(spoofed)")
            #expect(!FileManager.default.fileExists(atPath: server.scratch.path("ran")))
        }
    }
}
