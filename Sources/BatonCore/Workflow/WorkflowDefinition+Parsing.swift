import Foundation

extension WorkflowDefinition {
    static let rootKeys = ["spec", "schedule", "webhook"]
    static let scheduleKeys = ["cron", "timezone", "overlap", "missed", "enabled"]
    static let webhookKeys = ["secret"]

    /// Parses and validates a PUT body: `{"spec": {...}, "schedule"?: {"cron", "timezone",
    /// "overlap", "missed", "enabled"}, "webhook"?: {"secret"}}`.
    ///
    /// Strict like specs: unknown keys are errors; `null` means "not given". Every problem
    /// is reported with its path from the body's root: `spec.tasks[0].command`,
    /// `schedule.cron` (`position 3: …`), `schedule.timezone`, `webhook.secret`.
    ///
    /// - Parameters: `cores` and `maxTasks` as for `SpecParser.parse`.
    /// - Throws: `SpecErrors` with every problem, in document order.
    public static func parse(
        _ data: Data, cores: Int = ProcessInfo.processInfo.activeProcessorCount, maxTasks: Int = 100_000
    ) throws(SpecErrors) -> WorkflowDefinition {
        let document: SpecValue
        do {
            document = try SpecValue.parseJSON(data)
        } catch {
            throw SpecErrors([error])
        }
        guard let root = document.members else {
            throw SpecErrors([
                SpecError(path: "", message: "expected a map at the top level, got \(document.kindDescription)")
            ])
        }
        var errors: [SpecError] = []
        var spec: WorkflowSpec?
        var schedule: Schedule?
        var secret: String?
        var sawSpec = false
        for member in root {
            var decoder = SpecDecoder()
            let path = SpecPath.root.key(member.key)
            switch member.key {
            case "spec":
                sawSpec = !member.value.isNull
                if sawSpec { spec = parseSpec(member.value, cores: cores, maxTasks: maxTasks, errors: &errors) }
            case "schedule":
                if !member.value.isNull { schedule = decoder.schedule(member.value, at: path) }
            case "webhook":
                if !member.value.isNull { secret = decoder.webhookSecret(member.value, at: path) }
            default:
                decoder.unknownKey(member.key, in: .root, known: rootKeys)
            }
            errors += decoder.errors
        }
        if !sawSpec { errors.append(SpecError(path: "spec", message: "is required")) }
        guard errors.isEmpty, let spec else { throw SpecErrors(errors) }
        return WorkflowDefinition(spec: spec, schedule: schedule, webhookSecret: secret)
    }

    /// The `spec` member, validated by `SpecParser` with paths moved under `spec`.
    private static func parseSpec(
        _ value: SpecValue, cores: Int, maxTasks: Int, errors: inout [SpecError]
    ) -> WorkflowSpec? {
        guard case .object = value else {
            errors.append(
                SpecError(
                    path: "spec", message: "expected a map (a spec as a JSON object), got \(value.kindDescription)"))
            return nil
        }
        do throws(SpecErrors) {
            return try SpecParser.parse(value.jsonData(), format: .json, cores: cores, maxTasks: maxTasks)
        } catch {
            errors += error.errors.map { SpecError(path: prefixed($0.path), message: $0.message) }
            return nil
        }
    }

    /// A spec path moved under the body's `spec` member.
    static func prefixed(_ path: String) -> String {
        if path.isEmpty { return "spec" }
        return path.hasPrefix("[") ? "spec" + path : "spec." + path
    }
}

extension SpecDecoder {
    /// The `schedule` object; nil (with the problems recorded) when it is not valid.
    mutating func schedule(_ value: SpecValue, at path: SpecPath) -> Schedule? {
        guard let members = members(value, at: path) else { return nil }
        let before = errors.count
        var cron: CronExpression?
        var settings = (timezone: "UTC", overlap: OverlapPolicy.skip, missed: MissedPolicy.runOnce, enabled: true)
        var sawCron = false
        for member in members {
            let memberPath = path.key(member.key)
            guard WorkflowDefinition.scheduleKeys.contains(member.key) else {
                unknownKey(member.key, in: path, known: WorkflowDefinition.scheduleKeys)
                continue
            }
            if member.value.isNull && member.key != "cron" { continue }
            switch member.key {
            case "cron":
                sawCron = true
                guard let text = string(member.value, at: memberPath) else { break }
                do {
                    cron = try CronExpression.parse(text)
                } catch {
                    fail(memberPath, error.description)
                }
            case "timezone":
                guard let zone = string(member.value, at: memberPath) else { break }
                if TimeZone(identifier: zone) == nil {
                    fail(
                        memberPath,
                        "unknown time zone \(SpecValue.jsonQuoted(zone)) (expected an IANA name such as \"Europe/Paris\")"
                    )
                } else {
                    settings.timezone = zone
                }
            case "overlap":
                if let overlap = choice(member.value, at: memberPath, among: OverlapPolicy.allCases) {
                    settings.overlap = overlap
                }
            case "missed":
                if let missed = choice(member.value, at: memberPath, among: MissedPolicy.allCases) {
                    settings.missed = missed
                }
            default:
                if let enabled = bool(member.value, at: memberPath) { settings.enabled = enabled }
            }
        }
        if !sawCron { fail(path.key("cron"), "is required") }
        guard errors.count == before, let cron else { return nil }
        return Schedule(
            cron: cron, timezone: settings.timezone, overlap: settings.overlap, missed: settings.missed,
            enabled: settings.enabled)
    }

    /// The `webhook` object's secret; nil (with the problems recorded) when it is not valid.
    mutating func webhookSecret(_ value: SpecValue, at path: SpecPath) -> String? {
        guard let members = members(value, at: path) else { return nil }
        var secret: String?
        for member in members {
            guard WorkflowDefinition.webhookKeys.contains(member.key) else {
                unknownKey(member.key, in: path, known: WorkflowDefinition.webhookKeys)
                continue
            }
            guard let text = string(member.value, at: path.key(member.key)) else { continue }
            if text.isEmpty {
                fail(path.key(member.key), "must not be empty")
            } else {
                secret = text
            }
        }
        if secret == nil && !members.contains(where: { $0.key == "secret" }) {
            fail(path.key("secret"), "is required")
        }
        return secret
    }
}
