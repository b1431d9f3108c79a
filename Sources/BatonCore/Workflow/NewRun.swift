import Foundation

/// A run about to be created: its record and pending tasks, and the spec it executes.
/// Shared by every trigger of stored workflows (manual, cron, webhook).
public struct NewRun: Sendable, Equatable {
    public var record: RunRecord
    /// One pending row per task of the spec.
    public var tasks: [TaskRecord]
    public var spec: WorkflowSpec

    /// A queued run of `spec` created at `now`; `encoded` is `spec`'s canonical JSON and
    /// its digest when the caller keeps them (a cron fire every second needs not re-encode).
    public init(
        spec: WorkflowSpec, workflow: String?, trigger: RunTrigger, now: Date,
        encoded: (json: Data, hash: String)? = nil
    ) {
        let specJSON = encoded?.json ?? SpecEncoder.encode(spec)
        record = RunRecord(
            id: RunID.generate(now: now), name: spec.name, workflow: workflow, trigger: trigger, createdAt: now,
            specJSON: specJSON, specHash: encoded?.hash ?? ContentDigest.hex(specJSON))
        tasks = spec.tasks.enumerated().map { index, task in
            TaskRecord(index: index, name: task.name, group: task.group)
        }
        self.spec = spec
    }
}
