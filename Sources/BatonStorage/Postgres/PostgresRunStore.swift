import BatonCore
import Foundation
import Synchronization

/// The run store on PostgreSQL (`baton serve --database postgres://…`): the same ports as
/// `SQLiteRunStore`, for several nodes sharing one database (issue 9's cluster mode).
///
/// Every method is synchronous and may be called from any thread; each borrows a
/// connection of a small pool. Writes of one call are one transaction or one statement
/// (PostgreSQL runs a single statement atomically), so a crash leaves a call all done or
/// not done. Dates are `double precision` seconds since 1970, as in the SQLite store.
public final class PostgresRunStore: Sendable {
    let pool: PGConnectionPool
    /// This node's id, written as the owner of the runs it creates and as the node of the
    /// attempts it records; nil outside cluster mode.
    public let nodeID: String?
    /// The last write failure while writes fail (cleared by the next successful write).
    private let failingWrites = Mutex<String?>(nil)
    /// Cluster mode: the runs this node executes, and the generation of its ownership of
    /// each. Its writes of a run are fenced by both (PostgresRunStore+Cluster).
    let owned = Mutex<[String: Int64]>([:])
    /// Cluster mode: runs a write found taken over by another node, until taken.
    let fencedRuns = Mutex<[String]>([])
    /// Cluster mode: this node's labels, as registered (what its claims may satisfy).
    let labels = Mutex<[String: String]>([:])
    /// Cluster mode: the attempts this node claimed and runs, until it reports them.
    let claims = Mutex<Set<DispatchKey>>([])
    /// Cluster mode: the connection that LISTENs for other nodes' wake-ups.
    let listener = Mutex<PGConnection?>(nil)
    /// Cluster mode: events other nodes relayed, received on `listener`, until taken.
    let relayedInbox = Mutex<[RelayedItem]>([])
    /// Cluster mode: numbers this node's relays (see `RelayedEvents.pack`).
    let relayStamp = Atomic<UInt64>(0)

    /// Connects to `url` and brings the schema up to date (several nodes starting at once
    /// migrate once: the migrations run under an advisory lock).
    ///
    /// - Parameters:
    ///   - connections: the most connections this store opens.
    ///   - nodeID: this node's id in a cluster.
    /// - Throws: `RunStoreError.newerSchema` when a newer Baton migrated the database;
    ///   `PGError` when it cannot connect.
    public init(url: String, connections: Int = 8, nodeID: String? = nil) throws {
        pool = PGConnectionPool(url: url, capacity: max(2, connections))
        self.nodeID = nodeID
        try pool.withConnection { try Self.migrate($0) }
    }

    /// Whether `text` names a PostgreSQL database rather than a path.
    public static func isDatabaseURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public var writeProblem: String? { failingWrites.withLock { $0 } }

    /// Every write: marks the store degraded while writes fail for a reason of the server
    /// (disk full, connection lost), so `/healthz` can say so.
    @discardableResult
    func write<T>(_ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            if failingWrites.withLock({ $0 }) != nil { failingWrites.withLock { $0 = nil } }
            return result
        } catch let error as PGError {
            switch error {
            case .server("53100", _):
                failingWrites.withLock { $0 = "the PostgreSQL server's disk is full" }
                throw RunStoreError.storageFull("the PostgreSQL server's disk is full")
            case .connection(let message):
                failingWrites.withLock { $0 = "writes fail: \(message)" }
            default: break
            }
            throw error
        }
    }

    /// Closes the pool's connections. Later calls throw.
    public func close() {
        pool.close()
        listener.withLock { $0 = nil }
    }

    /// Round trips to PostgreSQL made by this process so far (`/metrics`).
    public static var roundTrips: Int { PGConnection.roundTrips.load(ordering: .relaxed) }

    /// The migrations applied to this database, in order.
    public func schemaVersion() throws -> [String] {
        try pool.withConnection { connection in
            let rows = try connection.query("SELECT identifier FROM baton_migrations ORDER BY position")
            return (0..<rows.count).compactMap { rows.string($0, 0) }
        }
    }
}
