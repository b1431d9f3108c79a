import CMicroHTTPD
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Suspends and resumes one libmicrohttpd connection without losing a wake-up, so a
/// response can wait for something (an event, a deadline) without a thread and without a
/// busy loop.
///
/// The worker thread asks to suspend (``suspendUnlessWoken()``) when it has nothing to send;
/// any thread calls ``wake()`` when there may be something. A wake that arrives before the
/// suspend is remembered, so the worker looks again instead of sleeping through it — the
/// classic lost-wake-up race between "queue empty?" and "suspend".
///
/// libmicrohttpd's rules kept here: suspend only from the access handler or the content
/// reader (the worker thread); resume from anywhere, but only a suspended connection, and
/// never after the request completed; and never stop the daemon with a connection
/// suspended (``HTTPServer/stop(gracePeriod:)`` closes every waker first).
public final class ConnectionWaker: @unchecked Sendable {
    // @unchecked Sendable: every mutable property is read and written under `lock`.
    private let lock = NSLock()
    private var connection: OpaquePointer?
    private var suspended = false
    private var wakePending = false
    private var closing = false

    /// The connection's socket, for ``peerHasClosed``.
    private let socket: Int32

    init(connection: OpaquePointer) {
        self.connection = connection
        socket = baton_mhd_connection_fd(connection)
    }

    /// Whether the client hung up (its socket reads EOF or fails), peeked without
    /// consuming anything. libmicrohttpd does not watch a suspended connection, so a stream
    /// waiting for events would otherwise notice only at its next write.
    public var peerHasClosed: Bool {
        lock.withLock {
            guard connection != nil, socket >= 0 else { return false }
            var byte: UInt8 = 0
            let count = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if count == 0 { return true }
            return count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }

    /// Whether the streamed body goes out in HTTP/1.1 chunks (set before the first read);
    /// only then may ``sendChunk(_:)`` write to the socket.
    var bodyIsChunked: Bool {
        get { lock.withLock { chunked } }
        set { lock.withLock { chunked = newValue } }
    }
    private var chunked = false
    /// The most the socket may hold unacknowledged for a chunk to be written to it
    /// directly; 0 until the first direct write fixes the send buffer.
    private var room = 0

    /// What ``sendChunk(_:)`` did.
    public enum DirectWrite: Sendable, Equatable {
        /// The chunk is on its way.
        case sent
        /// Nothing was written: the client has not taken enough of what it was sent.
        case noRoom
        /// Nothing was written: the connection is not suspended (libmicrohttpd owns the
        /// socket), the body is not chunked, or the server is stopping. ``wake()`` instead.
        case notSuspended
        /// The write failed or went out in part: the socket is shut down; ``wake()`` so
        /// that the response ends.
        case failed
    }

    /// The most a stream may have queued in its socket, sent chunks not yet taken by the
    /// client, for another chunk to be written to it directly. The send buffer is asked
    /// for at twice this, and the room is at most a quarter of what the kernel granted
    /// (which counts each packet's overhead too): a stock kernel grants 416 KiB, so
    /// 104 KiB, four drains of 500 streams.
    static let directRoom = 256 * 1024

    /// Writes `bytes` as one chunk of the body straight to the socket, from the calling
    /// thread, while the connection is suspended.
    ///
    /// Why: an event stream that is caught up would otherwise be resumed for every publish
    /// (a lock, a wake-up of a libmicrohttpd worker, a poll over every connection, a copy
    /// into the library's buffer, a send, a suspend again). With 500 streams that was
    /// most of the server's work and the tail of the delivery latency. A suspended
    /// connection's socket is the application's to write: libmicrohttpd neither polls nor
    /// writes it until it is resumed, and it only suspended after everything it had
    /// buffered was sent (the content reader is called on an empty buffer). The chunk goes
    /// whole or not at all (see baton_send_chunk), and under `lock`, so a resume cannot
    /// come between.
    public func sendChunk(_ bytes: UnsafeRawBufferPointer) -> DirectWrite {
        lock.withLock {
            guard connection != nil, suspended, chunked, !closing, socket >= 0 else { return .notSuspended }
            guard bytes.count > 0 else { return .sent }
            if room == 0 {
                let granted = Int(baton_fix_send_buffer(socket, Int32(2 * Self.directRoom)))
                room = granted > 0 ? min(Self.directRoom, granted / 4) : -1
            }
            guard room > 0 else { return .notSuspended }
            switch baton_send_chunk(socket, bytes.baseAddress, bytes.count, room) {
            case 1: return .sent
            case 0: return .noRoom
            default: return .failed
            }
        }
    }

    /// Whether the server is stopping: a waiting response must answer now.
    public var isClosing: Bool {
        lock.withLock { closing }
    }

    /// Whether the connection is suspended right now.
    var isSuspended: Bool {
        lock.withLock { suspended }
    }

    /// Wakes the connection: resumes it when suspended, else makes the next
    /// ``suspendUnlessWoken()`` return false. Cheap and idempotent; call from any thread.
    public func wake() {
        lock.withLock {
            guard let connection else { return }
            if suspended {
                suspended = false
                MHD_resume_connection(connection)
            } else {
                wakePending = true
            }
        }
    }

    /// Worker thread only. Suspends the connection and returns true, unless a wake arrived
    /// since the last call or the server is stopping (then returns false: look again).
    func suspendUnlessWoken() -> Bool {
        lock.withLock {
            guard let connection, !closing else { return false }
            if wakePending {
                wakePending = false
                return false
            }
            suspended = true
            MHD_suspend_connection(connection)
            return true
        }
    }

    /// The server is stopping: wake the connection for good; it will not suspend again.
    func close() {
        lock.withLock { closing = true }
        wake()
    }

    /// The request completed: the connection pointer is no longer valid.
    func detach() {
        lock.withLock {
            connection = nil
            suspended = false
        }
    }
}
