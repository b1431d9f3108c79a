import BatonCore
import Foundation
import Synchronization

/// Rendered `GET /v1/runs/{id}` answers keyed by run and revision (see `RunRevisions`).
final class RunDocumentCache: Sendable {
    struct Entry: Sendable {
        var revision: UInt64
        var body: Data
        var etag: String
    }

    /// Most runs kept; dashboards watch a handful, so a full reset when exceeded is fine.
    static let capacity = 1024
    private let entries = Mutex<[String: Entry]>([:])

    func lookup(_ runID: String, revision: UInt64) -> Entry? {
        entries.withLock { table in
            guard let entry = table[runID], entry.revision == revision else { return nil }
            return entry
        }
    }

    func store(_ runID: String, _ entry: Entry) {
        entries.withLock { table in
            if table.count >= Self.capacity && table[runID] == nil { table.removeAll(keepingCapacity: true) }
            table[runID] = entry
        }
    }
}
