import BatonCore
import BatonHTTP
import Foundation

/// One `GET /v1/events` connection: reads the hub's buffer from its own cursor and writes
/// Server-Sent Events frames. It holds no queue of events, only the bytes of the frames
/// being written (bounded by ``batchBytes``): a stalled reader stops reading, falls out of
/// the buffer, and is closed as `overflow` when it wakes (its client reconnects and gets a
/// `reset`). While caught up, the connection is suspended (no thread, no polling).
final class EventStream: HTTPBodyStream, EventListener, @unchecked Sendable {
    // @unchecked Sendable: the mutable state is guarded by `lock`; `runID`, `logsTask`
    // and the references are immutable.
    let hub: EventHub
    let metrics: BatonMetrics
    /// `?run=`: also this run's `task.updated`.
    let runID: String?
    /// `?logs=`: also `log.appended` of this task of `runID`.
    let logsTask: String?

    private let lock = NSLock()
    private var cursor: UInt64
    private var output: [UInt8] = []
    private var written = 0
    private var lastWrite = ContinuousClock.now
    private var waker: ConnectionWaker?
    /// The broadcast page being written, from `pageOffset`; `cursor` moves to its end once
    /// it is all written.
    private var page: BroadcastPage?
    private var pageOffset = 0
    private var closeReason: StreamCloseReason = .client
    private var closed = false
    /// Set by ``tick(now:)`` when the client is gone.
    private var hungUp = false

    /// An idle stream gets a comment this often, against proxies that drop idle connections
    /// (the SSE spec's authoring notes say "every 15 seconds or so").
    static let keepAlive = Duration.seconds(15)
    /// Frames are built in batches of at most this many bytes.
    static let batchBytes = 64 * 1024
    /// A stream more than this many events behind skips superseded state events.
    static let coalesceAbove = 64
    /// A stream at most this many events behind takes the frames straight from the buffer
    /// (one drain at 1,000 runs/s is a few hundred events); further behind, it copies them
    /// and skips the superseded ones.
    static let copyAbove = 1024

    /// - Parameter lastEventID: the client's `Last-Event-ID`: replay what it missed when
    ///   the buffer still holds it, else send one `reset`.
    init(hub: EventHub, metrics: BatonMetrics, runID: String?, logsTask: String?, lastEventID: String?) {
        self.hub = hub
        self.metrics = metrics
        self.runID = runID
        self.logsTask = logsTask
        let latest = hub.latest
        cursor = latest
        var replayable = true
        if let lastEventID {
            if let seq = hub.sequence(ofEventID: lastEventID), hub.canReplay(after: seq) {
                cursor = seq
            } else {
                replayable = false
            }
        }
        var hello = JSONText()
        hello.add("boot", hub.bootID)
        hello.add("seq", Int(latest))
        append("retry: 3000\n")
        // The hello's id is where the replay starts, not the newest id: an EventSource keeps
        // the last id it saw, and one that drops during the replay must ask for it again.
        appendFrame(id: hub.eventID(cursor), kind: EventKind.hello.rawValue, data: hello.string)
        if !replayable {
            appendFrame(id: hub.eventID(latest), kind: EventKind.reset.rawValue, data: "{}")
        }
    }

    func wants(_ event: borrowing ServerEvent) -> Bool {
        switch event.kind {
        case .taskUpdated: return runID != nil && event.runID == runID
        case .logAppended: return logsTask != nil && event.runID == runID && event.task == logsTask
        default: return true
        }
    }

    func attach(_ waker: ConnectionWaker) {
        lock.withLock { self.waker = waker }
        hub.add(self)
    }

    func wake() {
        guard let waker = lock.withLock({ waker }) else { return }
        if !sendDirectly(through: waker) { waker.wake() }
    }

    /// A stream without filter, suspended and caught up (its last read left nothing
    /// pending), writes the new broadcast pages itself, from the publishing thread, as
    /// chunks straight to its socket (``ConnectionWaker/sendChunk(_:)``): no resume, no
    /// worker wake-up, no copy. True when that is all the stream needs now; false when
    /// libmicrohttpd must write: the stream is not suspended, has a filter, is far behind
    /// or misses a page, the write failed, or its client has not taken what it was sent
    /// (then the library writes as the socket drains, which a publish-time write cannot).
    private func sendDirectly(through waker: ConnectionWaker) -> Bool {
        guard runID == nil && logsTask == nil else { return false }
        return lock.withLock {
            guard !closed, !hungUp, page == nil, written == output.count else { return false }
            while let next = nextPage() {
                let outcome = next.bytes.withUnsafeBytes { waker.sendChunk($0) }
                switch outcome {
                case .sent:
                    cursor = next.last
                    lastWrite = .now
                    metrics.eventsSent.increment(by: Double(next.frames))
                    metrics.eventChunksDirect.increment()
                case .noRoom, .notSuspended:
                    return false
                case .failed:
                    hungUp = true
                    return false
                }
            }
            // Caught up, or behind with no page to send (the library reads the ring).
            return cursor >= hub.latest
        }
    }

    /// Every second: a client that hung up ends its stream (frees its slot) now, not at
    /// the next keep-alive; an idle stream gets its keep-alive.
    func tick(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let (due, waker, behind) = lock.withLock {
            (lastWrite + Self.keepAlive, self.waker, runID == nil && logsTask == nil && cursor < hub.latest)
        }
        if let waker, waker.peerHasClosed {
            lock.withLock { hungUp = true }
            waker.wake()
        } else if due <= now {
            waker?.wake()
        } else if behind {
            // Chunks it had no room for at the last publish (``sendDirectly(through:)``).
            wake()
        }
        return min(due, now + .seconds(1))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamChunk {
        lock.withLock {
            if written == output.count && page == nil {
                output.removeAll(keepingCapacity: true)
                written = 0
                if waker?.isClosing == true {
                    closeReason = .shutdown
                    return .end
                }
                if hungUp { return .end }
                if !takePage() {
                    guard fill() else {
                        closeReason = .overflow
                        return .end
                    }
                }
                if output.isEmpty && page == nil {
                    guard ContinuousClock.now - lastWrite >= Self.keepAlive else { return .wait }
                    append(": ping\n\n")
                }
            }
            lastWrite = .now
            if let page {
                let count = min(buffer.count, page.bytes.count - pageOffset)
                page.bytes.withUnsafeBytes { bytes in
                    buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + pageOffset, byteCount: count)
                }
                pageOffset += count
                if pageOffset == page.bytes.count {
                    cursor = page.last
                    metrics.eventsSent.increment(by: Double(page.frames))
                    self.page = nil
                }
                return .bytes(count)
            }
            let count = min(buffer.count, output.count - written)
            output.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + written, byteCount: count)
            }
            written += count
            return .bytes(count)
        }
    }

    /// A stream without filter that is close behind writes the hub's broadcast pages as
    /// they are; false when it has none to write (it is further behind, has a filter, or
    /// the page after its cursor was not made): ``fill()`` then reads the ring.
    private func takePage() -> Bool {
        guard runID == nil && logsTask == nil, let next = nextPage() else { return false }
        page = next
        pageOffset = 0
        return true
    }

    /// The next broadcast page with bytes after `cursor`, moving the cursor past pages with
    /// none; nil when there is none, the stream is far behind, or a page is missing.
    /// Under `lock`.
    private func nextPage() -> BroadcastPage? {
        while hub.latest - cursor <= UInt64(Self.copyAbove), let next = hub.page(after: cursor) {
            guard next.bytes.isEmpty else { return next }
            cursor = next.last
        }
        return nil
    }

    /// Frames the events after `cursor` this stream wants; false when the buffer no longer
    /// holds them (the stream fell too far behind).
    private func fill() -> Bool {
        while output.count < Self.batchBytes {
            // Close behind: the frames go straight from the buffer, rendered once for
            // every stream. Far behind: the events are copied so that superseded ones can
            // be skipped (coalesced) first.
            if hub.latest - cursor <= UInt64(Self.copyAbove) {
                guard
                    let (last, appended) = hub.appendFrames(
                        after: cursor, limit: Self.copyAbove, into: &output, wants: { wants($0) })
                else { return false }
                guard last > cursor else { return true }
                cursor = last
                metrics.eventsSent.increment(by: Double(appended))
                continue
            }
            guard var events = hub.events(after: cursor, limit: 1024) else { return false }
            guard let last = events.last else { return true }
            cursor = last.seq
            events.removeAll { !wants($0) }
            if events.count > Self.coalesceAbove { events = Self.coalesced(events) }
            for event in events { output.append(contentsOf: hub.frame(of: event)) }
            metrics.eventsSent.increment(by: Double(events.count))
        }
        return true
    }

    /// `events` without the state events that a later one of the same key supersedes.
    static func coalesced(_ events: [ServerEvent]) -> [ServerEvent] {
        var seen: Set<String> = []
        var kept: [ServerEvent] = []
        for event in events.reversed() {
            if event.kind.isCoalescable {
                guard seen.insert(event.coalescingKey).inserted else { continue }
            }
            kept.append(event)
        }
        return kept.reversed()
    }

    func close() {
        let reason: StreamCloseReason? = lock.withLock {
            guard !closed else { return nil }
            closed = true
            waker = nil
            return closeReason
        }
        guard let reason else { return }
        hub.remove(self)
        hub.closeStream()
        metrics.streamCloses.increment([reason.rawValue])
    }

    private func appendFrame(id: String, kind: String, data: String) {
        append("id: \(id)\nevent: \(kind)\ndata: \(data)\n\n")
    }

    private func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }
}
