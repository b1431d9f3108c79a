/// How an ``HTTPServer`` listens and what it tolerates.
public struct HTTPServerConfiguration: Sendable {
    /// An IP literal to bind: `127.0.0.1`, `0.0.0.0`, `::1`, `::` (also `[::1]`), or
    /// `localhost` for `127.0.0.1`. Host names are not resolved.
    public var host: String
    /// The TCP port; `0` picks a free one (``HTTPServer/start()`` returns it).
    public var port: Int
    /// The largest accepted request body in bytes; larger ones answer `413`.
    public var maxBodyBytes: Int
    /// libmicrohttpd worker threads, each polling its share of the connections; handlers run
    /// on them, so this is also how many requests are handled at once.
    public var threads: Int
    /// Concurrent connections accepted at most; more are refused at accept time.
    public var connectionLimit: Int
    /// Seconds of inactivity after which a connection is closed (`0`: never), so a stalled
    /// client cannot hold a slot forever.
    public var connectionTimeoutSeconds: Int
    /// The `listen(2)` backlog requested (the kernel caps it at `net.core.somaxconn`).
    public var listenBacklog: Int
    /// Concurrent connections from one IP address at most (`0`: no per-IP limit), so one
    /// client cannot take every slot of ``connectionLimit``.
    public var perIPConnectionLimit: Int
    /// Request bodies buffered at once across all connections at most, in bytes; a request
    /// that would go over answers `503` with `Retry-After` before its body is read.
    public var maxBufferedBytes: Int
    /// Seconds a connection has to deliver a complete request head (request line and
    /// headers), counted from its opening or from the end of its previous request (`0`: no
    /// deadline). The inactivity timeout alone never fires for a client that trickles a
    /// byte now and then; this does.
    public var requestHeadDeadlineSeconds: Int

    /// The default body limit, 16 MiB (SPEC §4).
    public static let defaultMaxBodyBytes = 16 * 1024 * 1024

    /// Creates a configuration; every limit has a production default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxBodyBytes: Int = HTTPServerConfiguration.defaultMaxBodyBytes,
        threads: Int = 2,
        connectionLimit: Int = 2048,
        connectionTimeoutSeconds: Int = 30,
        listenBacklog: Int = 4096,
        perIPConnectionLimit: Int = 1024,
        maxBufferedBytes: Int = 128 * 1024 * 1024,
        requestHeadDeadlineSeconds: Int = 10
    ) {
        self.requestHeadDeadlineSeconds = requestHeadDeadlineSeconds
        self.perIPConnectionLimit = perIPConnectionLimit
        self.maxBufferedBytes = maxBufferedBytes
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.listenBacklog = listenBacklog
    }

    /// Problems with the values, empty when the configuration is usable.
    var problems: [String] {
        var problems: [String] = []
        if !(0...65535).contains(port) { problems.append("port \(port) is not in 0...65535") }
        if maxBodyBytes < 0 { problems.append("maxBodyBytes must not be negative") }
        if !(1...256).contains(threads) { problems.append("threads \(threads) is not in 1...256") }
        if !(1...1_000_000).contains(connectionLimit) {
            problems.append("connectionLimit \(connectionLimit) is not in 1...1000000")
        }
        if !(0...86_400).contains(connectionTimeoutSeconds) {
            problems.append("connectionTimeoutSeconds \(connectionTimeoutSeconds) is not in 0...86400")
        }
        if !(1...65535).contains(listenBacklog) {
            problems.append("listenBacklog \(listenBacklog) is not in 1...65535")
        }
        if !(0...1_000_000).contains(perIPConnectionLimit) {
            problems.append("perIPConnectionLimit \(perIPConnectionLimit) is not in 0...1000000")
        }
        if maxBufferedBytes < 1 { problems.append("maxBufferedBytes must be positive") }
        if !(0...86_400).contains(requestHeadDeadlineSeconds) {
            problems.append("requestHeadDeadlineSeconds \(requestHeadDeadlineSeconds) is not in 0...86400")
        }
        return problems
    }
}

/// Why an ``HTTPServer`` could not start.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration value is out of range; the strings say which.
    case invalidConfiguration([String])
    /// `host` is not an IPv4 or IPv6 literal.
    case invalidHost(String)
    /// The server is already running.
    case alreadyRunning
    /// libmicrohttpd refused to start, e.g. the port is taken; its own messages follow.
    case startFailed(String)

    /// One line for the operator.
    public var description: String {
        switch self {
        case .invalidConfiguration(let problems):
            "invalid HTTP server configuration: \(problems.joined(separator: "; "))"
        case .invalidHost(let host):
            "cannot listen on '\(host)': not an IPv4 or IPv6 address"
        case .alreadyRunning:
            "the HTTP server is already running"
        case .startFailed(let reason):
            "the HTTP server could not start: \(reason)"
        }
    }
}
