import CLibPQ
import Foundation
import Synchronization

/// One libpq connection. Not thread-safe (libpq's rule): a connection is used by one thread
/// at a time, handed from thread to thread only through `PGConnectionPool`.
///
/// Statements are prepared once per connection and executed by name afterwards
/// (`PQexecPrepared`): the server parses and plans a statement on its first use only.
/// Parameters and results travel in libpq's text format.
final class PGConnection: @unchecked Sendable {
    // @unchecked: the pool gives a connection to one borrower at a time, so `handle` and
    // `prepared` are never touched by two threads at once.
    private let handle: OpaquePointer
    /// Statement text → server-side name, for the statements prepared on this connection.
    private var prepared: [String: String] = [:]

    /// Connects with a libpq connection string or URI (`postgres://user@host:port/db`).
    ///
    /// - Throws: `PGError.connection` naming the server's or libpq's reason.
    init(url: String) throws {
        guard let connection = PQconnectdb(Self.withTimeouts(url)) else {
            throw PGError.connection("libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(connection)
            PQfinish(connection)
            throw PGError.connection(message)
        }
        handle = connection
        // Errors and notices are ours to report; libpq would print notices on stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// `url` with a connect timeout and TCP keepalives unless it sets them: a database that
    /// is unreachable, or a connection cut without a reset, must fail a call, not hang it.
    static func withTimeouts(_ url: String) -> String {
        var extra: [String] = []
        if !url.contains("connect_timeout=") { extra.append("connect_timeout=10") }
        if !url.contains("keepalives_idle=") { extra.append("keepalives_idle=10") }
        if !url.contains("keepalives_interval=") { extra.append("keepalives_interval=5") }
        if !url.contains("keepalives_count=") { extra.append("keepalives_count=3") }
        guard !extra.isEmpty, url.contains("://") else { return url }
        return url + (url.contains("?") ? "&" : "?") + extra.joined(separator: "&")
    }

    /// Round trips to the server by every connection of this process (statements,
    /// preparations, BEGIN and COMMIT): what the cluster benchmark divides by attempts.
    static let roundTrips = Atomic<Int>(0)

    /// False once the connection is broken (server restart, network cut): the pool drops it.
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one statement with `$1…$n` parameters (nil is NULL) and returns its rows.
    ///
    /// - Throws: `PGError.server` with the SQLSTATE, or `PGError.connection`.
    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = []) throws -> PGResult {
        let name = try statementName(sql, parameterCount: parameters.count)
        Self.roundTrips.add(1, ordering: .relaxed)
        let result = withCStrings(parameters) { values in
            PQexecPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try PGResult.checked(result, connection: handle)
    }

    /// Runs SQL without parameters and without preparing it (several statements may be
    /// separated by `;`): migrations, BEGIN and COMMIT.
    func execute(_ sql: String) throws {
        Self.roundTrips.add(1, ordering: .relaxed)
        try PGResult.checked(PQexec(handle, sql), connection: handle)
    }

    /// Waits up to `timeout` seconds for NOTIFY messages on the channels this connection
    /// LISTENs to, and returns their payloads (empty on timeout).
    ///
    /// - Throws: `PGError.connection` when the connection broke.
    func notifications(timeout: Double) throws -> [String] {
        var payloads = takeNotifications()
        if !payloads.isEmpty { return payloads }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PGError.connection(Self.message(handle)) }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(max(0, timeout) * 1000))
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else { throw PGError.connection(Self.message(handle)) }
            payloads = takeNotifications()
        }
        return payloads
    }

    private func takeNotifications() -> [String] {
        var payloads: [String] = []
        while let notification = PQnotifies(handle) {
            payloads.append(String(cString: notification.pointee.extra))
            PQfreemem(notification)
        }
        return payloads
    }

    /// The server-side name of `sql`, preparing it on first use.
    private func statementName(_ sql: String, parameterCount: Int) throws -> String {
        if let name = prepared[sql] { return name }
        let name = "baton_\(prepared.count + 1)"
        Self.roundTrips.add(1, ordering: .relaxed)
        try PGResult.checked(PQprepare(handle, name, sql, Int32(parameterCount), nil), connection: handle)
        prepared[sql] = name
        return name
    }

    /// libpq's last error on `connection`, without the trailing newline.
    static func message(_ connection: OpaquePointer) -> String {
        guard let text = PQerrorMessage(connection) else { return "unknown libpq error" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `strings` (NULL for nil), valid
/// only during the call.
private func withCStrings<T>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
