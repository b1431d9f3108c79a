import BatonCore
import Foundation
import Testing

/// `RunDocumentJSON` must give the very bytes `JSONEncoder` gives (clients and ETags of
/// today see no difference), on every trigger and on awkward strings and numbers.
@Suite struct RunDocumentJSONTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let awkward = [
        "", "plain", "quote \" and backslash \\ and slash /", "line\nfeed\ttab\r\u{8}\u{c}",
        "\u{0}\u{1}\u{1f}\u{7f}", "é, 漢字 and 😀", "\u{2028}\u{2029}", "ends with backslash \\",
    ]

    static let triggers: [RunTrigger] = [
        .api, .manual, .cron(scheduledAt: Date(timeIntervalSince1970: 1_800_000_000.5)),
        .webhook(deliveryID: "d-1", event: nil), .webhook(deliveryID: nil, event: "push\u{1}"),
        .retry(originalRunID: "r-0"), .task(runID: "p\"1", task: "t/1", attempt: 3),
    ]

    func record(_ trigger: RunTrigger, name: String, workflow: String?) -> RunRecord {
        RunRecord(
            id: "r-\(name.count)", name: name, workflow: workflow, status: .running, trigger: trigger,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000.123),
            startedAt: Date(timeIntervalSince1970: 1_800_000_001),
            specJSON: Data("{}".utf8), specHash: "h")
    }

    func tasks(_ names: [String]) -> [TaskRecord] {
        let start = Date(timeIntervalSince1970: 1_800_000_002.25)
        let durations: [Double] = [0, 0.001, 0.0004, 1, 12.5, 1234.567, 86_400 * 400, 1e-9]
        return names.enumerated().map { index, name in
            let status = TaskStatus.allCases[index % TaskStatus.allCases.count]
            return TaskRecord(
                index: index, name: name, group: index % 2 == 0 ? nil : name, status: status, attempt: index,
                exitCode: index % 3 == 0 ? nil : Int32(index) - 2, signal: index % 4 == 1 ? 9 : nil,
                reason: index % 2 == 0 ? name : nil, startedAt: start,
                finishedAt: status.isTerminal ? start.addingTimeInterval(durations[index % durations.count]) : nil)
        }
    }

    @Test(arguments: triggers)
    func theDocumentIsByteForByteWhatJSONEncoderWrites(trigger: RunTrigger) throws {
        for name in Self.awkward {
            let notifications = [
                NotificationDocument(url: "http://x/y?a=\"1\"", status: "failed", attempts: 2, lastError: name),
                NotificationDocument(url: "https://h/", status: "delivered", attempts: 1, lastError: nil),
            ]
            for withNotifications in [false, true] {
                let document = RunDocument(
                    run: record(trigger, name: name, workflow: name.isEmpty ? nil : name),
                    tasks: tasks(Self.awkward + [name + "1", name + "2"]),
                    notifications: withNotifications ? notifications : nil)
                let expected = try Self.encoder.encode(document)
                #expect(
                    String(decoding: RunDocumentJSON.encode(document), as: UTF8.self)
                        == String(decoding: expected, as: UTF8.self))
                var summary = document
                summary.tasks = nil
                #expect(RunDocumentJSON.encode(summary) == Array(try Self.encoder.encode(summary)))
            }
        }
    }

    @Test func numbersAreWrittenAsJSONEncoderWritesThem() throws {
        let values: [Double] = [0, 1, 0.001, 1.5, 12345.678, 1e-7, 3e20, 0.1 + 0.2, 100, 1e16, -2.5]
        for value in values {
            var json = JSONBytes()
            json.number(value)
            #expect(json.bytes == Array(try Self.encoder.encode(value)), "\(value)")
        }
        for value in [0, 7, -1, Int.max, Int.min] {
            var json = JSONBytes()
            json.integer(value)
            #expect(json.bytes == Array(try Self.encoder.encode(value)))
        }
    }
}
