import Foundation

/// Where one outgoing notification stands.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// The run has not ended yet.
    case waiting
    /// Due for delivery (first attempt or a retry after a network error or a 5xx).
    case pending
    case delivered
    /// Gave up: a 4xx answer, or 5 attempts failed.
    case failed
    /// Not sent: the run ended with a status the entry's `on` does not list.
    case skipped
}

/// One POST of a run's summary to a `notify` URL (SPEC §1), queued in the store so that a
/// restart does not lose it.
public struct NotificationRecord: Sendable, Equatable {
    public var runID: String
    /// Position of the entry in the spec's `notify`.
    public var index: Int
    public var url: String
    public var secret: String?
    public var status: DeliveryStatus
    public var attempts: Int
    public var lastError: String?
    /// When the next attempt is due (pending only).
    public var nextAttemptAt: Date?
    /// The exact bytes to POST (the RunSummary at the end of the run); signed as sent.
    public var body: Data

    public init(
        runID: String, index: Int, url: String, secret: String?, status: DeliveryStatus = .waiting,
        attempts: Int = 0, lastError: String? = nil, nextAttemptAt: Date? = nil, body: Data
    ) {
        self.runID = runID
        self.index = index
        self.url = url
        self.secret = secret
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.body = body
    }

    /// The deliveries of a new run, `waiting` until it ends, so that the Run shows them.
    public static func waiting(for runID: String, spec: WorkflowSpec) -> [NotificationRecord] {
        spec.notify.enumerated().map { index, entry in
            NotificationRecord(runID: runID, index: index, url: entry.url, secret: entry.secret, body: Data())
        }
    }

    /// The public view in a Run (the secret is never shown).
    public var document: NotificationDocument {
        NotificationDocument(url: url, status: status.rawValue, attempts: attempts, lastError: lastError)
    }
}

/// The persisted delivery queue of notifications.
public protocol NotificationStore: Sendable {
    /// Queues deliveries; an entry already queued for the same run and index is kept.
    func enqueueNotifications(_ records: [NotificationRecord]) throws
    /// Every pending delivery, oldest first.
    func pendingNotifications() throws -> [NotificationRecord]
    func updateNotification(_ record: NotificationRecord) throws
    /// The deliveries of one run by index.
    func notifications(runID: String) throws -> [NotificationRecord]
    /// Runs that have deliveries still `waiting` for their run to end.
    func runsWithWaitingNotifications() throws -> [String]
}
