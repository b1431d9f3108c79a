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

    private let lock = NSLock()
    private var libraryMessages: [String] = []

    init(
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        preflight: (@Sendable (HTTPRequest) -> HTTPResponse?)?,
        logger: Logger,
        maxBodyBytes: Int
    ) {
        self.handler = handler
        self.preflight = preflight
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
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
