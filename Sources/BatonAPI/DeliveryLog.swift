import BatonCore
import Foundation
import Synchronization

/// The last webhook deliveries per workflow that this server received since it started,
/// accepted or refused (GitHub's "Recent deliveries"), kept in memory and bounded.
public final class DeliveryLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var workflow: String
        public var delivery: String?
        public var event: String?
        public var result: WebhookResult
        public var runID: String?
        public var at: Date

        /// As in `GET /v1/workflows/{name}/deliveries` and `delivery.received`.
        var json: String {
            var text = JSONText()
            text.add("workflow", workflow)
            text.add("delivery", delivery)
            text.add("event", event)
            text.add("result", result.rawValue)
            text.add("run", runID)
            text.add("at", at)
            return text.string
        }
    }

    static let perWorkflow = 50
    /// Workflows remembered at most (hooks to unknown names count too).
    static let workflows = 1000
    private let entries = Mutex<[String: [Entry]]>([:])

    public init() {}

    func record(_ entry: Entry) {
        entries.withLock { table in
            if table[entry.workflow] == nil && table.count >= Self.workflows { table.removeAll() }
            var list = table[entry.workflow, default: []]
            list.insert(entry, at: 0)
            if list.count > Self.perWorkflow { list.removeLast(list.count - Self.perWorkflow) }
            table[entry.workflow] = list
        }
    }

    /// Newest first.
    func recent(_ workflow: String) -> [Entry] {
        entries.withLock { $0[workflow] ?? [] }
    }
}
