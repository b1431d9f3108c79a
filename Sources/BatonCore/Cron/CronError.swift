/// Why a cron expression was refused, pointing at the character that is wrong.
///
/// Rendered as `position 9: minute value 75 out of range 0-59`, ready to be put in a
/// validation error under the `schedule.cron` path.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based character offset in the expression text where the problem starts
    /// (one past the last character when something is missing at the end).
    public var position: Int
    /// What is wrong, without the position.
    public var message: String

    /// An error at `position` (1-based) with `message`.
    public init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    /// `position N: message`.
    public var description: String { "position \(position): \(message)" }
}
