import Foundation

/// Tells ssh's own failures (exit status 255) apart from a remote command's: the reason a
/// task then gets names what went wrong with the connection, from the message ssh wrote to
/// the task's log.
enum SSHFailure {
    /// The phrases ssh writes, with the reason each one gives (first match wins).
    static let phrases: [(text: String, reason: String)] = [
        ("Connection refused", "ssh: connection refused"),
        ("Host key verification failed", "ssh: host key verification failed"),
        ("Permission denied", "ssh: permission denied"),
        ("Could not resolve hostname", "ssh: could not resolve host"),
        ("No route to host", "ssh: no route to host"),
        ("Connection timed out", "ssh: connection timed out"),
        ("Operation timed out", "ssh: connection timed out"),
        ("not responding", "ssh: connection lost (host not responding)"),
        ("closed by remote host", "ssh: connection lost"),
        ("Connection closed by", "ssh: connection lost"),
        ("Connection reset", "ssh: connection lost"),
        ("Broken pipe", "ssh: connection lost"),
    ]

    /// The reason for an ssh exit status 255, from the end of the attempt's log; nil when
    /// nothing there is ssh's (the remote command itself exited 255).
    static func reason(logPath: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let tail = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return reason(tail: tail)
    }

    static func reason(tail: String) -> String? {
        // The last lines first: ssh's message is what it wrote before exiting.
        for line in tail.split(separator: "\n").reversed().prefix(20) {
            if let match = phrases.first(where: { line.contains($0.text) }) { return match.reason }
        }
        return nil
    }
}
