import Foundation
import Logging

/// What libmicrohttpd's callbacks need, reached through their `cls` context pointer
/// (`Unmanaged.passUnretained`): the ``HTTPServer`` owns it and outlives the daemon, because
/// `MHD_stop_daemon` joins every worker thread before it returns.
///
/// `@unchecked Sendable` is safe: every stored property is an immutable `let` of a
/// `Sendable` type, except `libraryMessages`, which is only touched under `lock`.
final class ServerContext: @unchecked Sendable {
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let preflight: (@Sendable (HTTPRequest) -> HTTPResponse?)?
    let logger: Logger
    let maxBodyBytes: Int
    let onRequest: (@Sendable (CompletedRequest) -> Void)?
    let bodyLimit: (@Sendable (HTTPRequest) -> Int?)?
    /// Bytes of request bodies buffered across all connections.
    let budget: BodyBudget
    /// Closes connections whose request head is too slow to arrive.
    let headDeadline: HeadDeadline

    private let lock = NSLock()
    private var libraryMessages: [String] = []
    /// Connections that may be suspended (streams, long-polls), by waker identity.
    private var wakers: [ObjectIdentifier: ConnectionWaker] = [:]

    init(
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        preflight: (@Sendable (HTTPRequest) -> HTTPResponse?)?,
        logger: Logger,
        maxBodyBytes: Int,
        onRequest: (@Sendable (CompletedRequest) -> Void)?,
        bodyLimit: (@Sendable (HTTPRequest) -> Int?)? = nil,
        budget: BodyBudget = BodyBudget(limit: .max),
        headDeadline: HeadDeadline = HeadDeadline(seconds: 0, logger: nil)
    ) {
        self.headDeadline = headDeadline
        self.bodyLimit = bodyLimit
        self.budget = budget
        self.handler = handler
        self.preflight = preflight
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
        self.onRequest = onRequest
    }

    /// Set by ``closeWaitingConnections()``: wakers registered afterwards start closed.
    private var stopping = false

    func register(_ waker: ConnectionWaker) {
        let closeNow = lock.withLock {
            wakers[ObjectIdentifier(waker)] = waker
            return stopping
        }
        if closeNow { waker.close() }
    }

    /// A stop is over; a later ``HTTPServer/start()`` serves streams again.
    func resetStopping() {
        lock.withLock { stopping = false }
    }

    func unregister(_ waker: ConnectionWaker) {
        _ = lock.withLock { wakers.removeValue(forKey: ObjectIdentifier(waker)) }
    }

    /// Tells every stream and long-poll that the server stops, resuming the suspended
    /// ones (libmicrohttpd must not be stopped with a suspended connection). Returns how
    /// many connections are still suspended: call again until 0.
    func closeWaitingConnections() -> Int {
        let open = lock.withLock {
            stopping = true
            return Array(wakers.values)
        }
        for waker in open { waker.close() }
        return open.filter(\.isSuspended).count
    }

    /// Logs a message of libmicrohttpd's and keeps the last few, to explain a failed start.
    func recordLibraryMessage(_ message: String) {
        logger.notice("libmicrohttpd: \(message)")
        lock.withLock {
            libraryMessages.append(message)
            if libraryMessages.count > 8 { libraryMessages.removeFirst() }
        }
    }

    /// The messages recorded since the last call, oldest first.
    func takeLibraryMessages() -> [String] {
        lock.withLock {
            defer { libraryMessages.removeAll() }
            return libraryMessages
        }
    }
}
