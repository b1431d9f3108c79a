/// What the server reports about each finished request (for metrics): no path, no ids.
public struct CompletedRequest: Sendable {
    /// The route template that answered (`/v1/runs/{id}`), nil when no route matched.
    public var route: String?
    public var method: String
    /// The status sent, nil when none was (client gone first).
    public var status: Int?
    public var durationSeconds: Double
}
