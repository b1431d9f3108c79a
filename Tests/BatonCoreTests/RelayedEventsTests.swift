import Testing

@testable import BatonCore

@Suite struct RelayedEventsTests {
    @Test func eventsSurviveThePayloadUnchanged() {
        let events = [
            ServerEvent(kind: .runCreated, runID: "r1", data: #"{"id":"r1"}"#),
            ServerEvent(kind: .taskUpdated, runID: "r1", task: "odd\tname\\with\nbreaks", data: #"{"a":"b\\n"}"#),
            ServerEvent(kind: .workflowUpdated, data: #"{"name":"w"}"#),
        ]
        let parts = RelayedEvents.pack(events, origin: "node-a")
        #expect(parts.count == 1)
        guard case .payload(let payload) = parts.first else {
            Issue.record("expected one payload")
            return
        }
        let unpacked = RelayedEvents.unpack(payload)
        #expect(unpacked?.origin == "node-a")
        #expect(unpacked?.events == events)
    }

    @Test func manyEventsAreSplitInOrderBelowTheLimit() {
        let events = (0..<200).map { index in
            ServerEvent(kind: .taskUpdated, runID: "r", task: "t\(index)", data: String(repeating: "x", count: 100))
        }
        let parts = RelayedEvents.pack(events, origin: "n")
        #expect(parts.count > 1)
        var received: [ServerEvent] = []
        for part in parts {
            guard case .payload(let payload) = part else {
                Issue.record("no event is too big here")
                return
            }
            #expect(payload.utf8.count <= RelayedEvents.maxPayloadBytes)
            received += RelayedEvents.unpack(payload)?.events ?? []
        }
        #expect(received == events)
    }

    @Test func anEventTooBigForAPayloadTravelsApartInItsPlace() {
        let big = ServerEvent(kind: .taskUpdated, runID: "r", task: "big", data: String(repeating: "y", count: 9_000))
        let small = ServerEvent(kind: .runUpdated, runID: "r", data: "{}")
        let parts = RelayedEvents.pack([small, big, small], origin: "n")
        #expect(parts.count == 3)
        guard case .oversized(let line) = parts[1] else {
            Issue.record("the big event must be apart")
            return
        }
        #expect(RelayedEvents.event(ofLine: line[...]) == big)
    }

    @Test func payloadsOfDifferentRelaysNeverMatch() {
        // PostgreSQL delivers identical payloads of one transaction once.
        let events = [ServerEvent(kind: .runUpdated, runID: "r", data: "{}")]
        let first = RelayedEvents.pack(events, origin: "n", stamp: 1)
        let second = RelayedEvents.pack(events, origin: "n", stamp: 2)
        #expect(first != second)
        guard case .payload(let payload) = second.first else {
            Issue.record("expected a payload")
            return
        }
        #expect(RelayedEvents.origin(of: payload) == "n")
        #expect(RelayedEvents.unpack(payload)?.events == events)
    }

    @Test func otherPayloadsAndUnknownKindsAreIgnored() {
        #expect(RelayedEvents.unpack("work") == nil)
        #expect(RelayedEvents.unpack("events:n\t1.0\nfuture.kind\tr\t\t{}")?.events == [])
    }
}
