import Foundation
import Synchronization

/// A bounded pool of connections to one database, shared by every thread of the server.
///
/// A borrower gets a connection for one closure and gives it back after; at most `capacity`
/// exist, further borrowers wait. A connection that broke (server restart, network cut) is
/// dropped instead of returned, so the next borrower opens a fresh one: the store heals by
/// itself once PostgreSQL is back.
final class PGConnectionPool: Sendable {
    let url: String
    private let capacity: DispatchSemaphore
    private let idle = Mutex<[PGConnection]>([])
    private let closed = Atomic<Bool>(false)

    init(url: String, capacity: Int) {
        self.url = url
        self.capacity = DispatchSemaphore(value: capacity)
    }

    /// Runs `body` with a connection of its own.
    @discardableResult
    func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        if closed.load(ordering: .acquiring) { throw PGError.connection("the store is closed") }
        capacity.wait()
        defer { capacity.signal() }
        let connection = try idle.withLock { $0.popLast() } ?? PGConnection(url: url)
        defer {
            if connection.isHealthy && !closed.load(ordering: .acquiring) {
                idle.withLock { $0.append(connection) }
            }
        }
        return try body(connection)
    }

    /// Runs `body` inside BEGIN … COMMIT; any error rolls back and is rethrown.
    func transaction<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.execute("BEGIN")
            do {
                let result = try body(connection)
                try connection.execute("COMMIT")
                return result
            } catch {
                if connection.isHealthy { try? connection.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Closes the idle connections; borrowers after this throw, connections in use close
    /// when given back.
    func close() {
        closed.store(true, ordering: .releasing)
        idle.withLock { $0.removeAll() }
    }
}
