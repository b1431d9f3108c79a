import BatonCore
import Foundation
import Testing

@Suite struct EventRingTests {
    @Test func numbersEventsAndReplaysWhatItStillHolds() {
        var ring = EventRing(capacity: 4)
        for index in 1...6 { ring.append(ServerEvent(kind: .runUpdated, runID: "r\(index)", data: "{}")) }
        #expect(ring.latest == 6)
        #expect(ring.oldest == 3)
        #expect(ring.events(after: 2, limit: 10)?.map(\.seq) == [3, 4, 5, 6])
        #expect(ring.events(after: 4, limit: 1)?.map(\.seq) == [5])
        #expect(ring.events(after: 1, limit: 10) == nil, "event 2 is gone: a gap, not a silent skip")
        #expect(ring.events(after: 6, limit: 10) == [])
        #expect(!ring.canReplay(after: 7), "an id from the future is not replayable")
    }

    @Test func jsonTextEscapesLikeJSONSerialization() throws {
        var text = JSONText()
        text.add("name", "a \"quoted\"\\ line\nand\u{1}\u{2028}")
        text.add("none", nil as String?)
        text.add("count", 3)
        text.add("done", true)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(text.string.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "a \"quoted\"\\ line\nand\u{1}\u{2028}")
        #expect(object["none"] is NSNull)
        #expect(object["count"] as? Int == 3)
        #expect(object["done"] as? Bool == true)
        #expect(!text.string.contains("\n"), "one SSE data line")
    }
}
