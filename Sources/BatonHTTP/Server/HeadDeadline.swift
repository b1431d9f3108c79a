import CMicroHTTPD
import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Closes a connection that has not delivered a complete request head (request line and
/// headers) within a deadline, counted from its opening or from the end of its previous
/// request.
///
/// Why: libmicrohttpd's connection timeout measures inactivity, so a client that trickles
/// one header byte every few seconds keeps its connection, and with enough of them (up to
/// the per-IP limit) every other client is locked out. libmicrohttpd has no such deadline of
/// its own and no call to drop a connection from outside its callbacks, so a sweep (once a
/// second, on a Dispatch timer: no thread of its own) shuts overdue sockets down with
/// `shutdown(2)`; libmicrohttpd then reads end-of-file and closes the connection itself,
/// running its usual cleanup.
///
/// The descriptor is only shut down under `lock`, and a connection leaves the table (its
/// CLOSED notification, which libmicrohttpd sends before it closes the socket) under the
/// same lock, so a reused descriptor number is never hit.
final class HeadDeadline: @unchecked Sendable {
    // @unchecked Sendable: `awaiting` and `timer` are only touched under `lock`.
    private let seconds: Int
    private let logger: Logger?
    private let lock = NSLock()
    /// Connections waiting for a request head: socket and since when (monotonic).
    private var awaiting: [OpaquePointer: (fd: Int32, since: ContinuousClock.Instant)] = [:]
    private var timer: DispatchSourceTimer?
    /// The timer runs only while some connection awaits a head: an idle server keeps no
    /// thread awake for it. Suspended by the sweep that finds the table empty, resumed by
    /// the next connection that waits (so at most once a second on the request path).
    private var timerSuspended = true

    /// `seconds == 0` disables the deadline (every call is then a no-op).
    init(seconds: Int, logger: Logger?) {
        self.seconds = seconds
        self.logger = logger
    }

    private var enabled: Bool { seconds > 0 }

    /// Starts the sweep (the server has started).
    func start() {
        guard enabled else { return }
        // A serial queue of its own: on a global utility queue Dispatch kept two more
        // threads alive for a 1 s timer. Created suspended (see `timerSuspended`).
        let source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "baton.head-deadline"))
        source.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
        source.setEventHandler { [weak self] in self?.sweep() }
        lock.withLock {
            timer = source
            timerSuspended = true
        }
    }

    /// Stops the sweep (the daemon has stopped: every connection is gone).
    func stop() {
        let source = lock.withLock {
            let source = timer
            // A suspended source must be resumed before it is cancelled and released.
            if timerSuspended { source?.resume() }
            timer = nil
            timerSuspended = true
            awaiting.removeAll()
            return source
        }
        source?.cancel()
    }

    /// The connection opened, or finished a request and is kept alive: its next head is due.
    func awaitHead(_ connection: OpaquePointer) {
        guard enabled else { return }
        let fd = baton_mhd_connection_fd(connection)
        guard fd >= 0 else { return }
        let now = ContinuousClock.now
        lock.withLock {
            awaiting[connection] = (fd, now)
            if timerSuspended, let timer {
                timerSuspended = false
                timer.resume()
            }
        }
    }

    /// The head of a request is in: the deadline no longer applies to this request.
    func headArrived(_ connection: OpaquePointer) {
        guard enabled else { return }
        _ = lock.withLock { awaiting.removeValue(forKey: connection) }
    }

    /// The connection is closing (libmicrohttpd has not closed its socket yet).
    func closed(_ connection: OpaquePointer) {
        guard enabled else { return }
        _ = lock.withLock { awaiting.removeValue(forKey: connection) }
    }

    /// Shuts down every socket whose head is overdue.
    private func sweep() {
        let limit = ContinuousClock.now - .seconds(seconds)
        let cut = lock.withLock { () -> Int in
            var cut = 0
            for (connection, entry) in awaiting where entry.since < limit {
                // Once: the socket is shut down now and libmicrohttpd closes it soon.
                awaiting[connection] = nil
                shutdown(entry.fd, Int32(SHUT_RDWR))
                cut += 1
            }
            if awaiting.isEmpty, !timerSuspended, let timer {
                timerSuspended = true
                timer.suspend()
            }
            return cut
        }
        if cut > 0 {
            logger?.notice(
                "closed connections whose request head did not arrive in time",
                metadata: ["connections": "\(cut)", "deadline_seconds": "\(seconds)"])
        }
    }
}
