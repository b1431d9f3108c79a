import Foundation

/// What a client stores under a workflow name (SPEC §4 `PUT /v1/workflows/{name}`): a spec
/// and, optionally, a cron schedule and a webhook.
///
/// The body is a JSON object `{"spec", "schedule"?, "webhook"?}` (see
/// `parse(_:cores:maxTasks:)`); `spec` is a spec given as a JSON object, in the native
/// format or the original YAML format's keys (a spec as a YAML string is not accepted here).
public struct WorkflowDefinition: Sendable, Equatable {
    /// The validated spec, every default applied.
    public var spec: WorkflowSpec
    public var schedule: Schedule?
    /// The webhook's shared secret; nil when the workflow has no webhook.
    public var webhookSecret: String?

    /// Creates a definition from parts that are already valid.
    public init(spec: WorkflowSpec, schedule: Schedule? = nil, webhookSecret: String? = nil) {
        self.spec = spec
        self.schedule = schedule
        self.webhookSecret = webhookSecret
    }

    /// The longest workflow name accepted.
    public static let maxNameLength = 100

    /// Whether `name` can name a workflow: 1–100 characters of `A-Z a-z 0-9 . _ -` (safe in
    /// URLs and run keys), and not `.` or `..`.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...maxNameLength).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// Why `name` is refused, or nil when it is valid.
    public static func nameProblem(_ name: String) -> String? {
        isValidName(name)
            ? nil
            : "workflow names are 1-\(maxNameLength) characters of A-Z, a-z, 0-9, '.', '_' and '-'"
    }

    /// The record to store under `name` at `now` (the store keeps `createdAt`, the cron
    /// watermark and the last run of a workflow it replaces).
    public func record(name: String, paused: Bool = false, now: Date) -> WorkflowRecord {
        WorkflowRecord(
            name: name, specJSON: SpecEncoder.encode(spec), schedule: schedule, webhookSecret: webhookSecret,
            paused: paused, createdAt: now, updatedAt: now)
    }
}
