import BatonCore

/// The frames of one publish that every stream without a filter sends (all its events but
/// `task.updated` and `log.appended`), concatenated once for all of them.
///
/// Why: at 1,000 runs/s with 500 dashboards open, a stream caught up with the hub copies
/// 3,000 events a second; visiting them one by one (a copy of each event, its reference
/// counts, a filter call) cost more than the bytes themselves. A page is one memcpy into the
/// connection's buffer.
final class BroadcastPage: Sendable {
    /// The sequence numbers the page covers: every event of its publish, sent or not.
    let first: UInt64
    let last: UInt64
    let bytes: [UInt8]
    /// How many frames `bytes` holds (for `baton_events_sent_total`).
    let frames: Int

    init(first: UInt64, last: UInt64, bytes: [UInt8], frames: Int) {
        self.first = first
        self.last = last
        self.bytes = bytes
        self.frames = frames
    }

    /// Whether a stream with no `?run=`/`?logs=` filter sends `kind`.
    static func isBroadcast(_ kind: EventKind) -> Bool {
        kind != .taskUpdated && kind != .logAppended
    }
}
