import ArgumentParser
import BatonAPI
import BatonCore
import BatonHTTP
import BatonRunner
import BatonStorage
import Foundation
import Logging

/// `baton serve`: the service (SPEC §4–§5).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Baton HTTP service.",
        discussion: """
            Listens on --listen (port 0 picks a free port; the bound address is printed as \
            "baton: listening on http://HOST:PORT"), keeps state in --data-dir, resumes \
            unfinished runs on start, and stops every task on SIGTERM/SIGINT (recorded as \
            interrupted, resumed by the next start) before exiting 0.
            Exit codes: 0 clean shutdown, 2 bad flags or cannot start (port in use, \
            unreadable token file, non-loopback address without a token).
            """)

    @Option(help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:8080"

    @Option(help: "Directory of the database and the logs.")
    var dataDir = "./baton-data"

    @Option(
        help: ArgumentHelp(
            "PostgreSQL database (postgres://USER@HOST:PORT/DB) shared by the nodes of a cluster; default: SQLite in --data-dir.",
            discussion: "Also read from BATON_DATABASE_URL. Logs stay in --data-dir."))
    var database: String?

    @Option(help: "This node's id in a cluster (default: kept in <data-dir>/node-id, made on first start).")
    var nodeID: String?

    @Option(
        help:
            "This node's labels, NAME=VALUE,… (e.g. gpu=true,zone=a): a task's or run's runs_on must be among them for the task to run here."
    )
    var labels: String?

    @Option(
        help:
            "Cluster mode: the URL other nodes reach this node's API at, to fetch the logs of tasks it ran (default: http://<bound address>, the hostname for 0.0.0.0)."
    )
    var advertiseURL: String?

    @Option(
        help:
            "Cluster mode: seconds a node may be silent before the other nodes take over its runs and the cron schedules."
    )
    var nodeLeaseSeconds: Double = 10

    @Option(help: "Size of the worker pool (default: the number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        help:
            "File holding the API token (else BATON_TOKEN). Every /v1 request then needs 'Authorization: Bearer <token>'."
    )
    var tokenFile: String?

    @Flag(help: "Allow listening on a non-loopback address without a token.")
    var insecureNoAuth = false

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = HTTPServerConfiguration.defaultMaxBodyBytes

    @Option(help: "Most tasks in one run.")
    var maxTasks = 100_000

    @Option(help: "Most open event streams (GET /v1/events); one more is answered 503 with Retry-After.")
    var maxEventStreams = 256

    @Flag(help: "Serve /metrics without the token (for a Prometheus that cannot send one).")
    var metricsPublic = false

    @Flag(help: "Do not serve the web console at /.")
    var noUI = false

    @Option(
        help:
            "Largest webhook body in bytes (at most --max-body-bytes); larger deliveries answer 413 before the body is read."
    )
    var maxHookBodyBytes = 1 << 20

    @Option(help: "Most concurrent connections from one IP address (0: no limit).")
    var maxConnectionsPerIP = 1024

    @Option(help: "Most bytes of request bodies buffered at once over all connections; more answers 503.")
    var maxBufferedBytes = 128 << 20

    @Option(
        help:
            "Seconds a connection has to send a complete request head (line and headers), from its opening or its previous request (0: no deadline)."
    )
    var requestHeadDeadline = 10

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard maxHookBodyBytes >= 0 else {
            throw ValidationError("--max-hook-body-bytes must not be negative, not \(maxHookBodyBytes)")
        }
        guard (0...1_000_000).contains(maxConnectionsPerIP) else {
            throw ValidationError("--max-connections-per-ip must be from 0 to 1000000, not \(maxConnectionsPerIP)")
        }
        guard maxBufferedBytes >= 1 else {
            throw ValidationError("--max-buffered-bytes must be positive, not \(maxBufferedBytes)")
        }
        guard (0...86_400).contains(requestHeadDeadline) else {
            throw ValidationError("--request-head-deadline must be from 0 to 86400 seconds, not \(requestHeadDeadline)")
        }
        guard (1...100_000).contains(maxEventStreams) else {
            throw ValidationError("--max-event-streams must be from 1 to 100000, not \(maxEventStreams)")
        }
        _ = try ListenAddress(listen)
        if let url = databaseURL, !PostgresRunStore.isDatabaseURL(url) {
            throw ValidationError(
                "--database must be a postgres:// or postgresql:// URL, not \"\(DatabaseURL.redacted(url))\"")
        }
        guard (0.5...3600).contains(nodeLeaseSeconds) else {
            throw ValidationError("--node-lease-seconds must be from 0.5 to 3600, not \(nodeLeaseSeconds)")
        }
        _ = try nodeLabels()
        if let advertiseURL, !(advertiseURL.hasPrefix("http://") || advertiseURL.hasPrefix("https://")) {
            throw ValidationError("--advertise-url must be an http:// or https:// URL, not \"\(advertiseURL)\"")
        }
        if let nodeID, !NodeIdentity.isValid(nodeID) {
            throw ValidationError("--node-id must be 1 to 64 letters, digits, '.', '_' or '-', not \"\(nodeID)\"")
        }
    }

    /// `--labels` as a map.
    func nodeLabels() throws -> [String: String] {
        guard let labels, !labels.isEmpty else { return [:] }
        var map: [String: String] = [:]
        for pair in labels.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError(
                    "--labels must be NAME=VALUE pairs separated by commas, not \"\(pair)\" in \"\(labels)\"")
            }
            guard map[String(parts[0])] == nil else {
                throw ValidationError("--labels names \"\(parts[0])\" twice")
            }
            map[String(parts[0])] = String(parts[1])
        }
        return map
    }

    /// `--database`, else `BATON_DATABASE_URL`; nil (SQLite) when neither is set.
    var databaseURL: String? {
        if let database { return database }
        if let url = ProcessInfo.processInfo.environment["BATON_DATABASE_URL"], !url.isEmpty { return url }
        return nil
    }

    func run() throws {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
        let logger = Logger(label: "baton")
        do {
            try Server(command: self, logger: logger).run()
        } catch let error as ServeError {
            Console.error("baton: \(error)")
            throw BatonExit.badInput
        }
    }
}

/// `HOST:PORT`, `[::1]:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen must be HOST:PORT with a port from 0 to 65535, not \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }
        self.host = host
        self.port = port
    }

    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

enum ServeError: Error, CustomStringConvertible {
    case setup(String)

    var description: String {
        switch self {
        case .setup(let message): return message
        }
    }
}
