import BatonCore
import BatonHTTP
import Foundation

/// A long-poll (`?wait=`): the connection is suspended until an event it wants arrives
/// (then ``attempt`` is asked again) or its deadline passes (then ``attempt`` must answer).
/// Consul's blocking queries are the model; nothing polls the store meanwhile, except every
/// `recheck` when one is given (cluster mode).
final class LongPoll: HTTPDeferredReply, EventListener, @unchecked Sendable {
    // @unchecked Sendable: `waker` is guarded by `lock`; `lastCheck` is touched by the pump
    // thread only (ticks); the rest is immutable.
    let hub: EventHub
    let live: LiveEvents
    let deadline: ContinuousClock.Instant
    let recheck: Duration?
    private let filter: @Sendable (ServerEvent) -> Bool
    /// The answer now, or nil to go on waiting; `final` (deadline or shutdown) must answer.
    private let attempt: @Sendable (_ final: Bool) -> HTTPResponse?
    private let lock = NSLock()
    private var waker: ConnectionWaker?
    /// When the recheck last woke it (touched by the pump thread only).
    private var lastCheck = ContinuousClock.now

    init(
        hub: EventHub, live: LiveEvents, wait: Duration, recheck: Duration? = nil,
        wants filter: @escaping @Sendable (ServerEvent) -> Bool,
        attempt: @escaping @Sendable (_ final: Bool) -> HTTPResponse?
    ) {
        self.hub = hub
        self.live = live
        deadline = .now + wait
        self.recheck = recheck
        self.filter = filter
        self.attempt = attempt
    }

    func attach(_ waker: ConnectionWaker) {
        lock.withLock { self.waker = waker }
        hub.add(self)
        live.tick(by: recheck.map { min(deadline, .now + $0) } ?? deadline)
    }

    func reply(closing: Bool) -> HTTPResponse? {
        attempt(closing || ContinuousClock.now >= deadline)
    }

    func close() {
        lock.withLock { waker = nil }
        hub.remove(self)
    }

    func wants(_ event: ServerEvent) -> Bool { filter(event) }

    func wake() {
        lock.withLock { waker }?.wake()
    }

    func tick(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        if now >= deadline {
            wake()
            return nil
        }
        guard let recheck else { return deadline }
        // A tick at the time asked (the pump may tick a little early): look again.
        if now + .milliseconds(5) >= lastCheck + recheck {
            lastCheck = now
            wake()
        }
        return min(deadline, lastCheck + recheck)
    }

    /// `?wait=` as a duration: `30s`, `500ms`, `1m` or plain seconds, at most 60 s.
    static func parseWait(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let seconds = value * scale
        guard seconds <= 60 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
