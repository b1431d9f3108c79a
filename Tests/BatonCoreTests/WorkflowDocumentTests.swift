import Foundation
import Testing

@testable import BatonCore

/// The Workflow document: next fire times with the zone's offset, metrics, and never the
/// webhook secret.
@Suite struct WorkflowDocumentTests {
    private typealias S = CronPlannerSupport

    private func encode(_ document: WorkflowDocument) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(document)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func nextRunsCarryTheZoneOffsetAcrossSpringForward() throws {
        var record = S.workflow(try S.schedule("0 3 * * *", zone: "Europe/Paris"), created: "2026-03-26T12:00:00Z")
        record.lastFiredAt = S.at("2026-03-27T03:00:00+01:00")
        let document = WorkflowDocument(record: record, lastRun: nil, now: S.at("2026-03-27T12:00:00Z"))
        #expect(
            document.nextRuns == [
                "2026-03-28T03:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00",
                "2026-03-31T03:00:00+02:00", "2026-04-01T03:00:00+02:00",
            ])
        #expect(document.nextFireAt == "2026-03-28T02:00:00.000Z")
        #expect(document.lastFireAt == "2026-03-27T02:00:00.000Z")
        #expect(document.state == "active")
    }

    @Test func zonedTimestamps() {
        #expect(
            ZonedTimestamp.format(S.at("2026-01-01T00:00:00Z"), in: CronTestSupport.zone("UTC"))
                == "2026-01-01T00:00:00+00:00")
        #expect(
            ZonedTimestamp.format(S.at("2026-07-01T12:00:00Z"), in: CronTestSupport.zone("America/New_York"))
                == "2026-07-01T08:00:00-04:00")
        #expect(
            ZonedTimestamp.format(S.at("2026-07-01T12:00:00Z"), in: CronTestSupport.zone("Asia/Kolkata"))
                == "2026-07-01T17:30:00+05:30")
    }

    @Test func pausedDisabledOrUnscheduledWorkflowsListNoNextRuns() throws {
        let paused = S.workflow(try S.schedule("@every 1s"), created: "2026-05-01T10:00:00Z", paused: true)
        let disabled = S.workflow(try S.schedule("@every 1s", enabled: false), created: "2026-05-01T10:00:00Z")
        let none = S.workflow(nil, created: "2026-05-01T10:00:00Z")
        for record in [paused, disabled, none] {
            let document = WorkflowDocument(record: record, lastRun: nil, now: S.at("2026-05-01T11:00:00Z"))
            #expect(document.nextRuns.isEmpty)
            #expect(document.nextFireAt == nil)
        }
        #expect(WorkflowDocument(record: paused, lastRun: nil, now: Date()).state == "paused")
    }

    @Test func theSecretIsNeverShownAndNullsAreExplicit() throws {
        var record = S.workflow(nil, created: "2026-05-01T10:00:00Z")
        record.specJSON = SpecEncoder.encode(WorkflowSpec(tasks: [TaskSpec(name: "t", command: .shell("true"))]))
        record.webhookSecret = "hunter2"
        let json = try encode(WorkflowDocument(record: record, lastRun: nil, now: S.at("2026-05-01T11:00:00Z")))
        #expect(json["webhook"] as? [String: Bool] == ["enabled": true])
        let text = String(
            decoding: try JSONEncoder().encode(WorkflowDocument(record: record, lastRun: nil, now: Date())),
            as: UTF8.self)
        #expect(!text.contains("hunter2"))
        #expect(
            Set(json.keys) == [
                "name", "spec", "schedule", "webhook", "state", "created_at", "updated_at", "last_run", "next_runs",
                "last_fire_at", "last_status", "next_fire_at",
            ])
        #expect(json["schedule"] is NSNull && json["last_run"] is NSNull && json["last_status"] is NSNull)
        let spec = try #require(json["spec"] as? [String: Any])
        #expect((spec["tasks"] as? [[String: Any]])?.first?["name"] as? String == "t")
    }

    @Test func theDocumentDecodesBack() throws {
        let record = S.workflow(try S.schedule("*/5 * * * *", zone: "Europe/Paris"), created: "2026-05-01T10:00:00Z")
        let document = WorkflowDocument(record: record, lastRun: nil, now: S.at("2026-05-01T10:01:00Z"))
        let decoded = try JSONDecoder().decode(WorkflowDocument.self, from: try JSONEncoder().encode(document))
        #expect(decoded == document)
    }
}
