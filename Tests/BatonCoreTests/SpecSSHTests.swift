import Foundation
import Testing

@testable import BatonCore

/// Remote tasks in the spec: `ssh_hosts` (named targets) and a task's `ssh` (a name or a
/// target in place); stored with the targets resolved.
@Suite struct SpecSSHTests {
    @Test func aTaskNamesAHostOrWritesOneInPlace() throws {
        let text = """
            {"ssh_hosts": {"box": {"host": "10.0.0.5", "port": 2222, "user": "deploy",
                                   "identity_file": "/keys/id", "known_hosts": "/keys/known"}},
             "tasks": [{"name": "a", "command": "uname", "ssh": "box"},
                       {"name": "b", "command": "uname", "ssh": {"host": "web1.example"}},
                       {"name": "c", "command": "uname"}]}
            """
        let spec = try #require(SpecTest.parse(text))
        #expect(
            spec.tasks[0].ssh
                == SSHTarget(
                    host: "10.0.0.5", port: 2222, user: "deploy", identityFile: "/keys/id", knownHosts: "/keys/known"))
        #expect(spec.tasks[1].ssh == SSHTarget(host: "web1.example"))
        #expect(spec.tasks[2].ssh == nil)
        // Stored and read back with the targets in place.
        let stored = try SpecParser.parse(SpecEncoder.encode(spec), format: .json, cores: 8)
        #expect(stored == spec)
    }

    @Test func aSpecWithoutRemoteTasksIsStoredAsBefore() throws {
        let spec = try #require(SpecTest.parse(#"{"tasks": [{"name": "a", "command": "true"}]}"#))
        #expect(!String(decoding: SpecEncoder.encode(spec), as: UTF8.self).contains("ssh"))
    }

    @Test func badTargetsAreNamedWithTheirPaths() {
        let errors = SpecTest.errors(
            """
            {"ssh_hosts": {"box": {"host": "ok", "port": 0}, "opt": {"host": "-oProxyCommand=x"},
                           "sp": {"host": "a b", "user": "u@v"}, "none": {"port": 22}},
             "tasks": [{"name": "a", "command": "true", "ssh": "nope"},
                       {"name": "b", "command": "true", "ssh": 5},
                       {"name": "c", "command": "true", "ssh": {"host": "h", "users": "x"}}]}
            """)
        #expect(
            Set(errors) == [
                "ssh_hosts.box.port: must be from 1 to 65535 (got 0)",
                "ssh_hosts.opt.host: must not start with \"-\" (ssh would read it as an option)",
                "ssh_hosts.sp.host: must not contain spaces or control characters",
                "ssh_hosts.sp.user: must not contain \"@\"",
                "ssh_hosts.none.host: is required",
                "tasks[0].ssh: unknown ssh host \"nope\" (ssh_hosts defines \"box\", \"none\", \"opt\", \"sp\")",
                "tasks[1].ssh: expected a map (host, port, user, identity_file, known_hosts) or the name of an ssh_hosts entry, got an integer",
                "tasks[2].ssh.users: unknown key (did you mean \"user\"?)",
            ], "\(errors)")
    }
}
