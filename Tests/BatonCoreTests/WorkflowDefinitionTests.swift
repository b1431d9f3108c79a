import Foundation
import Testing

@testable import BatonCore

/// The body of `PUT /v1/workflows/{name}`: strict, every error with its path from the
/// body's root (SPEC §4).
@Suite struct WorkflowDefinitionTests {
    private func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> WorkflowDefinition? {
        do {
            return try WorkflowDefinition.parse(Data(text.utf8), cores: 8)
        } catch {
            Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    private func errors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do {
            let definition = try WorkflowDefinition.parse(Data(text.utf8), cores: 8)
            Issue.record("expected errors, got \(definition)", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map { SpecTest.withoutTaskName($0.description) }
        }
    }

    @Test func aSpecAloneHasNoScheduleAndNoWebhook() throws {
        let definition = try #require(parse(#"{"spec": {"name": "n", "tasks": [{"name": "a", "command": "true"}]}}"#))
        #expect(definition.spec.name == "n")
        #expect(definition.spec.tasks.map(\.name) == ["a"])
        #expect(definition.schedule == nil)
        #expect(definition.webhookSecret == nil)
    }

    @Test func scheduleDefaultsAndEveryField() throws {
        let plain = try #require(
            parse(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}, "schedule": {"cron": "@every 1s"}}"#))
        let defaults = try #require(plain.schedule)
        #expect(defaults.cron.source == "@every 1s")
        #expect(defaults.timezone == "UTC")
        #expect(defaults.overlap == .skip)
        #expect(defaults.missed == .runOnce)
        #expect(defaults.enabled)
        let full = try #require(
            parse(
                #"""
                {"spec": {"tasks": [{"name": "a", "command": "true"}]},
                 "schedule": {"cron": "0 3 * * MON", "timezone": "Europe/Paris", "overlap": "queue", "missed": "skip", "enabled": false},
                 "webhook": {"secret": "s3cret"}}
                """#))
        #expect(
            full.schedule
                == Schedule(
                    cron: try CronExpression.parse("0 3 * * MON"), timezone: "Europe/Paris", overlap: .queue,
                    missed: .skip, enabled: false))
        #expect(full.webhookSecret == "s3cret")
    }

    @Test func nullMeansNotGiven() throws {
        let definition = try #require(
            parse(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}, "schedule": null, "webhook": null}"#))
        #expect(definition.schedule == nil && definition.webhookSecret == nil)
    }

    @Test func theOriginalFormatIsAcceptedAsTheSpecObject() throws {
        let definition = try #require(
            parse(
                #"{"spec": {"mode": "failfast", "tasks": [{"Name": "a", "Command": "true", "TimeoutInMinutes": 0.5}]}}"#
            ))
        #expect(definition.spec.tasks.first?.timeoutSeconds == 30)
    }

    @Test func specErrorsArePrefixedWithSpec() {
        #expect(
            errors(
                #"{"spec": {"tasks": [{"name": "a", "command": ""}, {"name": "b", "command": "x", "depends_on": ["zz"]}]}}"#
            )
                == ["spec.tasks[0].command: must not be empty", #"spec.tasks[1].depends_on[0]: unknown task "zz""#])
        #expect(errors(#"{"spec": {"tasks": [], "colour": 1}}"#).contains { $0.hasPrefix("spec.colour: unknown key") })
        #expect(errors(#"{"spec": "tasks: []"}"#) == ["spec: expected a map (a spec as a JSON object), got a string"])
        #expect(errors(#"{"schedule": {"cron": "@daily"}}"#) == ["spec: is required"])
    }

    @Test func scheduleErrorsNameTheirField() {
        #expect(
            errors(
                #"""
                {"spec": {"tasks": [{"name": "a", "command": "true"}]},
                 "schedule": {"cron": "0 75 * * *", "timezone": "Mars/Olympus", "overlap": "sometimes", "missed": 1, "enabled": "yes", "cronn": 1}}
                """#)
                == [
                    "schedule.cron: position 3: hour value 75 out of range 0-23",
                    #"schedule.timezone: unknown time zone "Mars/Olympus" (expected an IANA name such as "Europe/Paris")"#,
                    #"schedule.overlap: must be one of skip, allow, queue, replace (got "sometimes")"#,
                    "schedule.missed: expected a string, got an integer",
                    "schedule.enabled: expected a boolean, got a string",
                    #"schedule.cronn: unknown key (did you mean "cron"?)"#,
                ])
        #expect(
            errors(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}, "schedule": {}}"#) == [
                "schedule.cron: is required"
            ])
        #expect(
            errors(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}, "schedule": "@daily"}"#)
                == ["schedule: expected a map, got a string"])
    }

    @Test func webhookNeedsANonEmptySecret() {
        let spec = #""spec": {"tasks": [{"name": "a", "command": "true"}]}"#
        #expect(errors("{\(spec), \"webhook\": {}}") == ["webhook.secret: is required"])
        #expect(errors("{\(spec), \"webhook\": {\"secret\": \"\"}}") == ["webhook.secret: must not be empty"])
        #expect(
            errors("{\(spec), \"webhook\": {\"secret\": \"x\", \"enabled\": true}}")
                == [#"webhook.enabled: unknown key"#])
    }

    @Test func unknownTopLevelKeysAndBadDocuments() {
        #expect(
            errors(#"{"spec": {"tasks": [{"name": "a", "command": "true"}]}, "shedule": {}}"#)
                == [#"shedule: unknown key (did you mean "schedule"?)"#])
        #expect(errors("[]") == ["expected a map at the top level, got a list"])
        #expect(errors("{").count == 1)
    }

    @Test func errorsFromEverySectionAreReportedTogetherInDocumentOrder() {
        let found = errors(
            #"{"schedule": {"cron": "bad"}, "spec": {"tasks": [{"name": "a"}]}, "webhook": {"secret": 3}}"#)
        #expect(found.count == 3, "\(found)")
        #expect(found.first == "schedule.cron: position 4: expected 5 or 6 fields, got 1", "\(found)")
        #expect(found.dropFirst().first == "spec.tasks[0].command: is required", "\(found)")
        #expect(found.last == "webhook.secret: expected a string, got an integer")
    }

    @Test func namesAreShortAndURLSafe() {
        for name in ["a", "nightly-build", "v1.2_x", String(repeating: "x", count: 100)] {
            #expect(WorkflowDefinition.isValidName(name), "\(name)")
        }
        for name in ["", ".", "..", "a b", "a/b", "é", "a%2F", String(repeating: "x", count: 101)] {
            #expect(!WorkflowDefinition.isValidName(name), "\(name)")
        }
    }

    @Test func manualRunBodies() throws {
        #expect(try ManualRunRequest.parse(Data()) == ManualRunRequest())
        #expect(try ManualRunRequest.parse(Data(#"{"env": {"A": "1"}}"#.utf8)) == ManualRunRequest(env: ["A": "1"]))
        #expect(throws: SpecErrors([SpecError(path: "env.A", message: "expected a string, got an integer")])) {
            try ManualRunRequest.parse(Data(#"{"env": {"A": 1}}"#.utf8))
        }
        #expect(throws: SpecErrors([SpecError(path: "envv", message: #"unknown key (did you mean "env"?)"#)])) {
            try ManualRunRequest.parse(Data(#"{"envv": {}}"#.utf8))
        }
        let spec = WorkflowSpec(env: ["A": "spec", "B": "spec"], tasks: [TaskSpec(name: "t", command: .shell("true"))])
        let merged = try ManualRunRequest(env: ["A": "manual"]).apply(to: spec, cores: 8)
        #expect(merged.env == ["A": "manual", "B": "spec"])
    }
}
