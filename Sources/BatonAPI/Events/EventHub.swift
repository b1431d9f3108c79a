import BatonCore
import Foundation
import Synchronization

/// Something waiting for live events: an event stream or a long-poll.
protocol EventListener: AnyObject, Sendable {
    /// Whether `event` concerns it (cheap: called for every event under the hub's lock).
    func wants(_ event: ServerEvent) -> Bool
    /// There is something new for it (from the publishing thread; must not block).
    func wake()
    /// The periodic check: keep-alives, deadlines. Returns when it next needs a tick.
    func tick(now: ContinuousClock.Instant) -> ContinuousClock.Instant?
}

/// The live events of this server: a replay buffer of the last events and the listeners
/// waiting for new ones. Publishing appends and wakes only the listeners that want one of
/// the new events; listeners read from the buffer at their own pace, so a slow reader
/// holds no queue of its own and slows nobody — it only falls out of the buffer.
public final class EventHub: Sendable {
    /// Changes at each start, so an id from an earlier process is never taken for one of
    /// this process (a client reconnecting after a restart gets a `reset`).
    public let bootID: String
    /// Open event streams allowed at once.
    public let maxStreams: Int
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var ring: EventRing
        var listeners: [ObjectIdentifier: any EventListener] = [:]
        var streams = 0
        /// The broadcast pages of the publishes the ring still holds, oldest first; only
        /// made while listeners exist, so a page may be missing (a stream then reads the
        /// ring event by event).
        var pages: [BroadcastPage] = []
    }

    /// Called (outside the lock) when the first listener arrives while there was none.
    private let onFirstListener: (@Sendable () -> Void)?

    public init(capacity: Int = 10_000, maxStreams: Int = 256, onFirstListener: (@Sendable () -> Void)? = nil) {
        bootID = String(UInt64.random(in: 1 ... .max), radix: 36)
        self.maxStreams = maxStreams
        self.onFirstListener = onFirstListener
        state = Mutex(State(ring: EventRing(capacity: capacity)))
    }

    /// The sequence number of the newest event.
    public var latest: UInt64 {
        state.withLock { $0.ring.latest }
    }

    /// The SSE frame of `event` (`id`, `event`, `data`).
    func frame(of event: borrowing ServerEvent) -> [UInt8] {
        event.frame.isEmpty
            ? Array("id: \(eventID(event.seq))\nevent: \(event.kind.rawValue)\ndata: \(event.data)\n\n".utf8)
            : event.frame
    }

    /// `BOOT.SEQ`, the SSE id of event `seq`.
    public func eventID(_ seq: UInt64) -> String {
        bootID + "." + String(seq)
    }

    /// The sequence number in an SSE id of this boot, nil for another boot or garbage.
    public func sequence(ofEventID id: String) -> UInt64? {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == bootID[...] else { return nil }
        return UInt64(parts[1])
    }

    /// Whether every event after `seq` can still be replayed.
    func canReplay(after seq: UInt64) -> Bool {
        state.withLock { $0.ring.canReplay(after: seq) }
    }

    /// From this many open streams on, a broadcast page carries only the last `run.updated`
    /// of each run among its events. Every stream sends every page, so the bytes of a
    /// publish are multiplied by the streams: at 500 streams and 1,000 runs/s a run's
    /// `running` and `succeeded` usually fall in one drain, and sending both cost a third
    /// of the server's stream work and of every client's. Each `run.updated` is the run's
    /// whole new state, so the later one is all a dashboard needs. The buffer keeps both:
    /// a stream with `?run=` reads it event by event and gets every one. Below this,
    /// streams are few and cheap, and every client sees every transition.
    static let coalescingStreams = 100

    /// The positions in `events` of the `run.updated` events a later `run.updated` of the
    /// same run supersedes.
    static func supersededRunUpdates(in events: [ServerEvent]) -> Set<Int> {
        var latest: [String: Int] = [:]
        var superseded: Set<Int> = []
        for (index, event) in events.enumerated() where event.kind == .runUpdated {
            guard let run = event.runID else { continue }
            if let earlier = latest.updateValue(index, forKey: run) { superseded.insert(earlier) }
        }
        return superseded
    }

    /// Appends events (in order) and wakes the listeners that want any of them.
    public func publish(_ events: [ServerEvent]) {
        guard !events.isEmpty else { return }
        let woken: [any EventListener] = state.withLock { state in
            // Frames are rendered here, once for every stream, only while streams are open;
            // an event published with none is rendered by whoever replays it (`frame(of:)`).
            let rendering = !state.listeners.isEmpty
            let first = state.ring.latest + 1
            var page: [UInt8] = []
            var frames = 0
            let superseded =
                rendering && state.streams >= Self.coalescingStreams ? Self.supersededRunUpdates(in: events) : []
            for (index, var event) in events.enumerated() {
                event.seq = state.ring.latest + 1
                if rendering {
                    event.frame = frame(of: event)
                    if BroadcastPage.isBroadcast(event.kind) && !superseded.contains(index) {
                        page += event.frame
                        frames += 1
                    }
                }
                state.ring.append(event)
            }
            if rendering {
                state.pages.append(BroadcastPage(first: first, last: state.ring.latest, bytes: page, frames: frames))
            }
            // A page whose first event left the ring is of no use (its stream overflowed).
            while let head = state.pages.first, head.first < state.ring.oldest { state.pages.removeFirst() }
            return state.listeners.values.filter { listener in events.contains(where: listener.wants) }
        }
        for listener in woken { listener.wake() }
    }

    /// Appends to `output` the frames of the events after `seq` (at most `limit`) that
    /// `wants` keeps, straight from the buffer (no event is copied); returns the last seq
    /// looked at and how many frames were appended, or nil when the buffer no longer holds
    /// them all.
    func appendFrames(
        after seq: UInt64, limit: Int, into output: inout [UInt8], wants: (borrowing ServerEvent) -> Bool
    ) -> (last: UInt64, appended: Int)? {
        state.withLock { state in
            var appended = 0
            guard
                let visited = state.ring.forEach(
                    after: seq, limit: limit,
                    { event in
                        guard wants(event) else { return }
                        if event.frame.isEmpty {
                            output.append(contentsOf: frame(of: event))
                        } else {
                            output.append(contentsOf: event.frame)
                        }
                        appended += 1
                    })
            else { return nil }
            return (visited.last, appended)
        }
    }

    /// The broadcast page that starts right after `seq`, if there is one.
    func page(after seq: UInt64) -> BroadcastPage? {
        state.withLock { state in
            // Pages are in order and, between gaps, contiguous: a binary search for the
            // first page that ends after `seq`.
            var low = 0
            var high = state.pages.count
            while low < high {
                let middle = (low + high) / 2
                if state.pages[middle].last <= seq { low = middle + 1 } else { high = middle }
            }
            guard low < state.pages.count, state.pages[low].first == seq + 1 else { return nil }
            return state.pages[low]
        }
    }

    /// Up to `limit` events after `seq`; nil when the buffer no longer holds them all.
    func events(after seq: UInt64, limit: Int) -> [ServerEvent]? {
        state.withLock { $0.ring.events(after: seq, limit: limit) }
    }

    func add(_ listener: any EventListener) {
        let first = state.withLock { state in
            state.listeners[ObjectIdentifier(listener)] = listener
            return state.listeners.count == 1
        }
        if first { onFirstListener?() }
    }

    /// Event streams and long-polls waiting now.
    public var listenerCount: Int {
        state.withLock { $0.listeners.count }
    }

    func remove(_ listener: any EventListener) {
        _ = state.withLock { $0.listeners.removeValue(forKey: ObjectIdentifier(listener)) }
    }

    /// Takes a stream slot; false when ``maxStreams`` are open.
    func openStream() -> Bool {
        state.withLock { state in
            guard state.streams < maxStreams else { return false }
            state.streams += 1
            return true
        }
    }

    func closeStream() {
        state.withLock { $0.streams -= 1 }
    }

    /// Open event streams.
    public var openStreams: Int {
        state.withLock { $0.streams }
    }

    /// Ticks every listener; returns the earliest next tick any of them asked for.
    func tick(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let listeners = state.withLock { Array($0.listeners.values) }
        var next: ContinuousClock.Instant?
        for listener in listeners {
            if let due = listener.tick(now: now) { next = next.map { min($0, due) } ?? due }
        }
        return next
    }
}
