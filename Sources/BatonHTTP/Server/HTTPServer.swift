import CMicroHTTPD
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 server on libmicrohttpd: a pool of worker threads, each with its own poll()
/// loop over its share of the connections, hands every complete request to one synchronous
/// handler.
///
/// Threading: the handler runs on a libmicrohttpd worker thread, several at once (one per
/// worker). Keep it short; it may block briefly (a lock, SQLite), but must never wait on
/// Swift concurrency (no semaphore waiting for a `Task`), and must never call ``stop()``.
/// Slow or stalled clients cost no thread: sockets are multiplexed with poll() and idle ones
/// are closed after ``HTTPServerConfiguration/connectionTimeoutSeconds``.
///
/// Each request is logged once at completion (method, raw path, status, duration, request
/// id; never header values or bodies) and answered with `X-Request-Id`.
public final class HTTPServer: @unchecked Sendable {
    // @unchecked Sendable: `daemon` is the only mutable state, and it is read and written
    // only while holding `lock`; everything else is immutable.

    /// The configuration the server was created with.
    public let configuration: HTTPServerConfiguration
    private let context: ServerContext
    private let logger: Logger
    private let lock = NSLock()
    private var daemon: OpaquePointer?

    /// Creates a stopped server.
    ///
    /// - Parameters:
    ///   - preflight: Runs once the headers are in, before any body is read, with the
    ///     request's body still empty. Return a response (e.g. `401`, `415`) to answer at
    ///     once without reading the body; return nil to go on.
    ///   - onRequest: Runs on the worker thread as each request completes (metrics).
    ///   - bodyLimit: A smaller body limit for some requests (e.g. webhooks), nil: the
    ///     configured one. Asked once the headers are in.
    ///   - handler: Answers each complete request (see the threading rules above).
    public init(
        configuration: HTTPServerConfiguration,
        logger: Logger,
        preflight: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil,
        onRequest: (@Sendable (CompletedRequest) -> Void)? = nil,
        bodyLimit: (@Sendable (HTTPRequest) -> Int?)? = nil,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) {
        self.configuration = configuration
        self.logger = logger
        self.context = ServerContext(
            handler: handler, preflight: preflight, logger: logger,
            maxBodyBytes: configuration.maxBodyBytes, onRequest: onRequest, bodyLimit: bodyLimit,
            budget: BodyBudget(limit: configuration.maxBufferedBytes),
            headDeadline: HeadDeadline(seconds: configuration.requestHeadDeadlineSeconds, logger: logger))
    }

    deinit {
        stop()
    }

    /// Binds `host:port` and starts serving; returns the host and the bound port (the one
    /// picked when the configured port is 0). Raises the soft `RLIMIT_NOFILE` to the hard
    /// limit first so that ``HTTPServerConfiguration/connectionLimit`` sockets fit.
    ///
    /// - Throws: ``HTTPServerError``; the server then stays stopped.
    @discardableResult
    public func start() throws(HTTPServerError) -> (host: String, port: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard daemon == nil else { throw .alreadyRunning }
        let problems = configuration.problems
        guard problems.isEmpty else { throw .invalidConfiguration(problems) }
        let address = try BindAddress(host: configuration.host, port: configuration.port)

        let descriptors = FileDescriptorLimit.raiseToHardLimit()
        if let descriptors, descriptors < UInt64(configuration.connectionLimit) + 64 {
            logger.warning(
                "open-file limit is below the connection limit; extra connections will be refused",
                metadata: [
                    "nofile": "\(descriptors)", "connection_limit": "\(configuration.connectionLimit)",
                ])
        }

        // poll(), not epoll: libmicrohttpd 0.9.75's epoll loop drains events in rounds of
        // 128 and, after a full round, waits again with the timeout computed before it (up to
        // connectionTimeoutSeconds) while the connections it found ready sit unprocessed, so
        // a burst of exactly 128 requests stalls (see ServerBurstTests). poll() has no such
        // round and, like epoll, has no FD_SETSIZE limit; it costs O(connections) per wake-up
        // (measured: ~0.4 ms per request instead of ~0.08 ms with 1,000 idle connections
        // open). ITC is what MHD_quiesce_daemon needs to wake the workers, and what wakes a
        // worker when another thread resumes a suspended connection (event streams,
        // long-polls: MHD_ALLOW_SUSPEND_RESUME).
        var flags =
            MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_POLL.rawValue
            | MHD_USE_ITC.rawValue | MHD_USE_ERROR_LOG.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
        if address.isIPv6 { flags |= MHD_USE_IPv6.rawValue }
        let cls = Unmanaged.passUnretained(context).toOpaque()
        _ = context.takeLibraryMessages()
        let started = address.withSockaddrPointer { sockaddr in
            baton_mhd_start_daemon(
                flags, sockaddr,
                UInt32(configuration.threads),
                UInt32(configuration.connectionLimit),
                UInt32(configuration.connectionTimeoutSeconds),
                UInt32(configuration.listenBacklog),
                UInt32(configuration.perIPConnectionLimit),
                { cls, connection, url, method, version, uploadData, uploadDataSize, requestState in
                    MHDCallbacks.accessHandler(
                        cls: cls, connection: connection, url: url, method: method, version: version,
                        uploadData: uploadData, uploadDataSize: uploadDataSize,
                        requestState: requestState)
                },
                cls,
                { cls, connection, requestState, termination in
                    MHDCallbacks.requestCompleted(
                        cls: cls, connection: connection, requestState: requestState, termination: termination)
                },
                cls,
                { cls, connection, _, code in
                    MHDCallbacks.connectionNotified(cls: cls, connection: connection, code: code)
                },
                cls,
                { cls, format, arguments in
                    MHDCallbacks.log(cls: cls, format: format, arguments: arguments)
                },
                cls)
        }
        guard let started else {
            // libmicrohttpd's own words, e.g. "Failed to bind to port 0: Address already in
            // use" (it says port 0 because the address comes through MHD_OPTION_SOCK_ADDR).
            let messages = context.takeLibraryMessages()
            throw .startFailed(
                "cannot listen on \(configuration.host):\(configuration.port)"
                    + (messages.isEmpty ? "" : ": " + messages.joined(separator: "; ")))
        }
        daemon = started
        context.headDeadline.start()
        let port = Int(baton_mhd_bind_port(started))
        logger.info(
            "HTTP server listening",
            metadata: [
                "host": "\(configuration.host)", "port": "\(port)",
                "threads": "\(configuration.threads)",
                "connection_limit": "\(configuration.connectionLimit)",
            ])
        return (configuration.host, port)
    }

    /// Stops the server: stops accepting (`MHD_quiesce_daemon`), waits up to `gracePeriod`
    /// for open connections to close (idle keep-alive connections count, so the whole
    /// period may pass), then closes the rest and joins the worker threads
    /// (`MHD_stop_daemon`), so no handler runs once it returns. Idempotent; a no-op when not
    /// running. Never call it from a handler (it would wait for its own thread).
    public func stop(gracePeriod: Duration = .zero) {
        lock.lock()
        defer { lock.unlock() }
        guard let running = daemon else { return }
        daemon = nil
        // Streams and long-polls end first: libmicrohttpd must not be stopped with a
        // connection suspended ("an API violation"), and their clients get a clean end.
        let streamDeadline = ContinuousClock.now + .seconds(2)
        while context.closeWaitingConnections() > 0 && ContinuousClock.now < streamDeadline {
            usleep(2_000)
        }
        // "the caller is responsible for closing the returned socket; [...] it must not be
        // closed until AFTER MHD_stop_daemon has been called" (MHD_quiesce_daemon).
        let listenSocket = MHD_quiesce_daemon(running)
        let deadline = ContinuousClock.now + gracePeriod
        while baton_mhd_connection_count(running) > 0 && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        _ = context.closeWaitingConnections()
        MHD_stop_daemon(running)
        context.headDeadline.stop()
        context.resetStopping()
        if listenSocket != MHD_INVALID_SOCKET {
            close(listenSocket)
        }
        logger.info("HTTP server stopped")
    }

    /// Whether the server is running.
    public var isRunning: Bool {
        lock.withLock { daemon != nil }
    }

    /// The number of open connections, or 0 when stopped.
    public var connectionCount: Int {
        lock.withLock { daemon.map { Int(baton_mhd_connection_count($0)) } ?? 0 }
    }
}
