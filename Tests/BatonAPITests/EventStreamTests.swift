import BatonCore
import Foundation
import Testing

@testable import BatonAPI

/// The event stream's reading rules, without a socket: frames, filters, coalescing, and
/// the disconnect of a reader that fell out of the replay buffer.
@Suite struct EventStreamTests {
    func readAll(_ stream: EventStream) -> (text: String, ended: Bool) {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let chunk = buffer.withUnsafeMutableBytes { stream.read(into: $0) }
            switch chunk {
            case .bytes(let count): text += String(decoding: buffer[..<count], as: UTF8.self)
            case .wait: return (text, false)
            case .end: return (text, true)
            }
        }
    }

    func event(_ kind: EventKind, run: String? = nil, task: String? = nil, _ data: String = "{}") -> ServerEvent {
        ServerEvent(kind: kind, runID: run, task: task, data: data)
    }

    @Test func framesCarryIDsAndOnlyWhatTheFiltersAsk() {
        let hub = EventHub(capacity: 100)
        let stream = EventStream(
            hub: hub, metrics: BatonMetrics(version: "t"), runID: "r1", logsTask: nil, lastEventID: nil)
        hub.publish([
            event(.runCreated, run: "r2"), event(.taskUpdated, run: "r2"), event(.taskUpdated, run: "r1", task: "a"),
            event(.logAppended, run: "r1", task: "a"),
        ])
        let (text, ended) = readAll(stream)
        #expect(!ended)
        #expect(text.hasPrefix("retry: 3000\nid: \(hub.bootID).0\nevent: hello\n"))
        #expect(text.contains("id: \(hub.bootID).1\nevent: run.created\ndata: {}\n\n"))
        #expect(!text.contains("id: \(hub.bootID).2\n"), "task events of other runs are filtered out")
        #expect(text.contains("id: \(hub.bootID).3\nevent: task.updated\n"))
        #expect(!text.contains("log.appended"), "logs need ?logs=")
    }

    @Test func aReaderThatFellOutOfTheBufferIsClosedAndItsReconnectGetsAReset() {
        let hub = EventHub(capacity: 8)
        let metrics = BatonMetrics(version: "t")
        let slow = EventStream(hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: nil)
        _ = readAll(slow)
        let lastSeen = hub.eventID(hub.latest)
        hub.publish((0..<20).map { event(.runUpdated, run: "r\($0)") })
        #expect(readAll(slow).ended, "20 events behind a buffer of 8: disconnect, never a silent gap")
        slow.close()
        #expect(metrics.streamCloses.value(["overflow"]) == 1)
        let again = EventStream(hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: lastSeen)
        #expect(readAll(again).text.contains("event: reset"))
        let caughtUp = EventStream(
            hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: hub.eventID(hub.latest - 3))
        let replay = readAll(caughtUp).text
        #expect(!replay.contains("reset"))
        #expect(replay.components(separatedBy: "event: run.updated").count - 1 == 3)
    }

    /// Something listening, so that the hub renders frames and broadcast pages.
    final class QuietListener: EventListener {
        func wants(_ event: ServerEvent) -> Bool { false }
        func wake() {}
        func tick(now: ContinuousClock.Instant) -> ContinuousClock.Instant? { nil }
    }

    func ids(_ text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
    }

    @Test func anUnfilteredStreamSendsTheBroadcastPagesAndFallsBackToTheRingAcrossAGap() {
        let hub = EventHub(capacity: 100)
        let metrics = BatonMetrics(version: "t")
        // Published while nobody listens: no page; then pages.
        hub.publish([event(.runCreated, run: "r1"), event(.taskUpdated, run: "r1")])
        let listener = QuietListener()
        hub.add(listener)
        let stream = EventStream(
            hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: hub.eventID(0))
        hub.publish([event(.runUpdated, run: "r1", "{\"n\":1}"), event(.logAppended, run: "r1", task: "a")])
        hub.publish([event(.taskUpdated, run: "r1")])  // a page without frames
        let first = readAll(stream).text
        // Longer than the reader's 512-byte buffer: the page is written in pieces.
        let big = "{\"w\":\"" + String(repeating: "x", count: 700) + "\"}"
        hub.publish([event(.runUpdated, run: "r1", "{\"n\":2}"), event(.workflowUpdated, big)])
        let second = readAll(stream).text
        // The hello carries the id the replay starts after (0); the replay follows.
        #expect(ids(first) == ["0", "1", "3"].map { "\(hub.bootID).\($0)" })
        #expect(ids(second) == ["6", "7"].map { "\(hub.bootID).\($0)" })
        #expect(first.hasSuffix("id: \(hub.bootID).3\nevent: run.updated\ndata: {\"n\":1}\n\n"))
        #expect(
            second
                == "id: \(hub.bootID).6\nevent: run.updated\ndata: {\"n\":2}\n\n"
                + "id: \(hub.bootID).7\nevent: workflow.updated\ndata: \(big)\n\n")
        #expect(metrics.eventsSent.value() == 4, "run.created, two run.updated, workflow.updated")
        hub.remove(listener)
    }

    @Test func withManyStreamsOpenAPageSkipsTheRunUpdatesALaterOneSupersedes() {
        let hub = EventHub(capacity: 100, maxStreams: 1000)
        let metrics = BatonMetrics(version: "t")
        let listener = QuietListener()
        hub.add(listener)
        let batch = [
            event(.runCreated, run: "r1", "{\"c\":1}"), event(.runUpdated, run: "r1", "{\"s\":\"running\"}"),
            event(.runUpdated, run: "r2", "{\"s\":\"running\"}"), event(.runUpdated, run: "r1", "{\"s\":\"ok\"}"),
        ]
        // Few streams: every transition.
        let few = EventStream(hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: nil)
        hub.publish(batch)
        #expect(ids(readAll(few).text) == ["0", "1", "2", "3", "4"].map { "\(hub.bootID).\($0)" })
        for _ in 0..<EventHub.coalescingStreams { #expect(hub.openStream()) }
        let many = EventStream(hub: hub, metrics: metrics, runID: nil, logsTask: nil, lastEventID: nil)
        hub.publish(batch)
        let text = readAll(many).text
        #expect(ids(text) == ["4", "5", "7", "8"].map { "\(hub.bootID).\($0)" }, "r1's running is superseded")
        #expect(text.hasSuffix("id: \(hub.bootID).8\nevent: run.updated\ndata: {\"s\":\"ok\"}\n\n"))
        #expect(ids(readAll(few).text) == ["5", "7", "8"].map { "\(hub.bootID).\($0)" }, "every stream reads the page")
        // A stream of the run reads the buffer, which kept every event.
        let ofRun = EventStream(
            hub: hub, metrics: metrics, runID: "r1", logsTask: nil, lastEventID: hub.eventID(4))
        #expect(ids(readAll(ofRun).text) == ["4", "5", "6", "7", "8"].map { "\(hub.bootID).\($0)" }, "hello: 4")
        hub.remove(listener)
    }

    @Test func aStreamWithAFilterReadsTheRingEvenWhenPagesExist() {
        let hub = EventHub(capacity: 100)
        let listener = QuietListener()
        hub.add(listener)
        let stream = EventStream(
            hub: hub, metrics: BatonMetrics(version: "t"), runID: "r1", logsTask: nil, lastEventID: nil)
        hub.publish([event(.taskUpdated, run: "r1"), event(.taskUpdated, run: "r2"), event(.runUpdated, run: "r2")])
        let text = readAll(stream).text
        #expect(ids(text) == ["0", "1", "3"].map { "\(hub.bootID).\($0)" })
        hub.remove(listener)
    }

    @Test func aReaderFarBehindGetsOnlyTheLatestStateOfEachThing() {
        let events = (0..<100).map { index in
            ServerEvent(
                seq: UInt64(index + 1), kind: .taskUpdated, runID: "r", task: "t\(index % 10)", data: "\(index)")
        }
        let kept = EventStream.coalesced(events + [ServerEvent(seq: 101, kind: .runCreated, runID: "x", data: "c")])
        #expect(kept.count == 11)
        #expect(kept.filter { $0.kind == .taskUpdated }.map(\.data) == (90..<100).map(String.init))
        #expect(kept.map(\.seq) == kept.map(\.seq).sorted(), "order kept")
    }

    @Test func waitDurationsParseWithUnitsAndAreCapped() {
        #expect(LongPoll.parseWait("30s") == .seconds(30))
        #expect(LongPoll.parseWait("500ms") == .milliseconds(500))
        #expect(LongPoll.parseWait("1m") == .seconds(60))
        #expect(LongPoll.parseWait("2.5") == .milliseconds(2500))
        #expect(LongPoll.parseWait("61s") == nil)
        #expect(LongPoll.parseWait("-1s") == nil)
        #expect(LongPoll.parseWait("soon") == nil)
    }
}
