/// A task's log grew (`complete` false) or its attempt ended (`complete` true).
public struct LogProgress: Sendable, Equatable {
    public var runID: String
    public var task: String
    public var attempt: Int
    /// The log file's size in bytes.
    public var bytes: Int
    public var complete: Bool

    public init(runID: String, task: String, attempt: Int, bytes: Int, complete: Bool) {
        self.runID = runID
        self.task = task
        self.attempt = attempt
        self.bytes = bytes
        self.complete = complete
    }
}
