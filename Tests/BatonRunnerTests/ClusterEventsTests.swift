import BatonCore
import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import BatonRunner

/// The relay of a node's live events to the other nodes (cluster mode): what the other
/// nodes' clients missed, a failed relay or events dropped past the queue's bound, is
/// announced by a `reset` in front of the next events that do go out.
@Suite struct ClusterEventsTests {
    /// An `EventRelay` that records what it is asked to send; it can fail, or hold a call
    /// until released.
    final class RecordingRelay: EventRelay {
        private let state = Mutex<(sent: [[ServerEvent]], failures: Int)>(([], 0))
        let holdFirst: Bool
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        private let calls = Atomic<Int>(0)

        init(failures: Int = 0, holdFirst: Bool = false) {
            self.holdFirst = holdFirst
            state.withLock { $0.failures = failures }
        }

        var sent: [[ServerEvent]] { state.withLock { $0.sent } }

        func relay(_ events: [ServerEvent]) throws {
            if calls.add(1, ordering: .relaxed).oldValue == 0 && holdFirst {
                entered.signal()
                release.wait()
            }
            let fail = state.withLock { state -> Bool in
                state.sent.append(events)
                guard state.failures > 0 else { return false }
                state.failures -= 1
                return true
            }
            if fail { throw CancellationError() }
        }

        func announceWatching() throws {}
        func takeRelayedEvents() -> [ServerEvent] { [] }
        func pruneRelayedEvents() throws {}
    }

    static func event(_ number: Int) -> ServerEvent {
        ServerEvent(kind: .runCreated, data: #"{"n":\#(number)}"#)
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func start(_ relay: RecordingRelay, maxPending: Int = 20_000) -> ClusterEvents {
        let events = ClusterEvents(
            relay: relay, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            maxPending: maxPending)
        events.othersWatch.set(true)
        events.start()
        return events
    }

    @Test func aFailedRelayIsFollowedByAReset() async throws {
        let relay = RecordingRelay(failures: 1)
        let events = Self.start(relay)
        defer { events.stop() }
        events.published([Self.event(1)])
        try await Self.waitUntil { relay.sent.count == 1 }
        events.published([Self.event(2)])
        try await Self.waitUntil { relay.sent.count == 2 }
        #expect(relay.sent[0] == [Self.event(1)])
        #expect(relay.sent[1].map(\.kind) == [.reset, .runCreated])
        #expect(relay.sent[1].last == Self.event(2))
        // Once a relay went through, no more resets.
        events.published([Self.event(3)])
        try await Self.waitUntil { relay.sent.count == 3 }
        #expect(relay.sent[2] == [Self.event(3)])
    }

    @Test func eventsDroppedPastTheBoundAreFollowedByAReset() async throws {
        let relay = RecordingRelay(holdFirst: true)
        let events = Self.start(relay, maxPending: 4)
        defer { events.stop() }
        events.published([Self.event(1)])
        relay.entered.wait()  // the relay thread is busy sending event 1
        events.published([Self.event(2), Self.event(3)])
        events.published((4...8).map(Self.event))  // 2 + 5 > 4: dropped
        events.published([Self.event(9)])
        relay.release.signal()
        try await Self.waitUntil { relay.sent.count == 2 }
        #expect(relay.sent[0] == [Self.event(1)])
        #expect(relay.sent[1] == [ServerEvent(kind: .reset, data: "{}"), Self.event(2), Self.event(3), Self.event(9)])
    }

    @Test func nothingIsQueuedWhileNoOtherNodeWatches() async throws {
        let relay = RecordingRelay()
        let events = Self.start(relay)
        defer { events.stop() }
        events.othersWatch.set(false)
        events.published([Self.event(1)])
        events.othersWatch.set(true)
        events.published([Self.event(2)])
        try await Self.waitUntil { relay.sent.count == 1 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(relay.sent == [[Self.event(2)]])
    }
}
