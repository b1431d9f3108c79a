import BatonCore
import Foundation

/// How a remote task runs: the system OpenSSH client (`ssh -T -o BatchMode=yes`, host keys
/// checked strictly) starts a small POSIX `sh` wrapper on the host, and the task's
/// environment and command reach the wrapper on ssh's stdin, never on a command line (so
/// they show in no process list and no log).
///
/// The wrapper starts the command under `setsid` (a process group of its own), copies its
/// exit status back, and kills the whole remote group:
/// - when the command ends (its leftovers die with it, as they do locally);
/// - when the connection goes away, which is what a timeout, a cancel, a failfast stop or
///   the server's own end does: the server holds ssh's stdin open for as long as the task
///   runs, so the wrapper's stdin reaches end-of-file exactly when the local ssh process is
///   gone. Then SIGTERM, and SIGKILL after the run's `kill_grace_seconds`.
///
/// The host needs `/bin/sh` and `setsid` (util-linux, BusyBox).
enum SSHCommand {
    /// The ssh client, looked up in the task's `PATH`.
    static let client = "ssh"

    /// `ssh OPTIONS -- HOST BOOTSTRAP`: a target validated by the spec decoder (no value
    /// starts with `-` or holds spaces).
    static func argv(_ target: SSHTarget, marker: String) -> [String] {
        var argv = [
            client, "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
        ]
        if let file = target.knownHosts { argv += ["-o", "UserKnownHostsFile=\(file)"] }
        if let file = target.identityFile { argv += ["-i", file, "-o", "IdentitiesOnly=yes"] }
        if let port = target.port { argv += ["-p", String(port)] }
        if let user = target.user { argv += ["-l", user] }
        return argv + ["--", target.host, bootstrap(marker: marker)]
    }

    /// The remote command: reads shell assignments from stdin up to the `marker` line,
    /// evaluates them, then runs the wrapper. `marker` is fresh per spawn, so no value can
    /// end the input early.
    static func bootstrap(marker: String) -> String {
        let script = """
            baton_end=\(marker); baton_input=
            while IFS= read -r baton_line; do
              [ "$baton_line" = "$baton_end" ] && break
              baton_input="$baton_input$baton_line
            "
            done
            eval "$baton_input"
            if [ -n "$baton_cwd" ]; then cd "$baton_cwd" || exit 1; fi
            exec 3<&0
            setsid /bin/sh -c "$baton_command" </dev/null &
            baton_pid=$!
            ( while IFS= read -r baton_line <&3; do :; done
              kill -TERM -"$baton_pid" 2>/dev/null
              sleep "$baton_grace"
              kill -KILL -"$baton_pid" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
            baton_watch=$!
            exec 3<&-
            wait "$baton_pid"
            baton_code=$?
            kill -KILL -"$baton_pid" 2>/dev/null
            kill "$baton_watch" 2>/dev/null
            exit "$baton_code"
            """
        return "exec /bin/sh -c " + shellQuoted(script)
    }

    /// What ssh's stdin carries: the exported environment, the command, its directory and
    /// grace as shell assignments, then the marker line. Names that are not shell names
    /// cannot be exported and are returned in `skipped`.
    static func input(
        command: CommandLine, environment: [String: String], cwd: String?, killGraceSeconds: Double,
        marker: String
    ) -> (bytes: [UInt8], skipped: [String]) {
        var text = ""
        var skipped: [String] = []
        for name in environment.keys.sorted() {
            guard isShellName(name) else {
                skipped.append(name)
                continue
            }
            text += "export \(name)=\(shellQuoted(environment[name]!))\n"
        }
        text += "baton_command=\(shellQuoted(shellScript(command)))\n"
        text += "baton_cwd=\(shellQuoted(cwd ?? ""))\n"
        text += "baton_grace=\(shellQuoted(String(format: "%.3f", max(0, killGraceSeconds))))\n"
        text += marker + "\n"
        return (Array(text.utf8), skipped)
    }

    /// A command as a script for `sh -c` (an argv is quoted word by word and exec'd).
    static func shellScript(_ command: CommandLine) -> String {
        switch command {
        case .shell(let script): return script
        case .argv(let words): return "exec " + words.map(shellQuoted).joined(separator: " ")
        }
    }

    /// `'…'`, with each `'` written as `'\''`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func isShellName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }

    /// A marker line no value can contain by chance.
    static func freshMarker() -> String {
        "BATON_END_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    }
}
