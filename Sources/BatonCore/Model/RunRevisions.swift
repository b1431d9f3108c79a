import Synchronization

/// A change counter per run, bumped after every committed write that changes what
/// `GET /v1/runs/{id}` shows (the executor's batches, notification deliveries). Readers
/// compare it to the revision of a cached rendering: dashboards polling a run cost a
/// dictionary lookup, not a database read and a JSON encoding, until the run changes.
public final class RunRevisions: Sendable {
    private let revisions = Mutex<[String: UInt64]>([:])

    public init() {}

    /// The current revision (0 for a run never bumped).
    public func current(_ runID: String) -> UInt64 {
        revisions.withLock { $0[runID] ?? 0 }
    }

    /// Marks runs changed; call AFTER the change is committed.
    public func bump<S: Sequence>(_ runIDs: S) where S.Element == String {
        revisions.withLock { table in
            for runID in runIDs { table[runID, default: 0] &+= 1 }
        }
    }
}
