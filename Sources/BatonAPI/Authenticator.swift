import BatonHTTP
import Foundation

/// Bearer-token authentication of `/v1` and `/metrics` (SPEC §4): `/healthz` and the
/// console's static files need none, and webhooks authenticate by their signature instead.
struct Authenticator: Sendable {
    let token: String?
    /// `--metrics-public`: Prometheus may scrape without the token.
    var metricsPublic = false

    /// A 401 problem when the request must be refused, nil when it may pass.
    func refusal(for request: HTTPRequest) -> HTTPResponse? {
        guard let token else { return nil }
        let segments = request.pathSegments
        let isMetrics = segments == ["metrics"]
        guard segments.first == "v1" || (isMetrics && !metricsPublic) else { return nil }
        if segments.count >= 2 && segments[1] == "hooks" { return nil }
        guard let header = request.headers["Authorization"] else {
            // A browser's EventSource cannot send headers: the events stream alone takes
            // the token as `?access_token=` (the request log never shows the query).
            if segments == ["v1", "events"], let presented = request.query["access_token"] {
                return ConstantTime.equal(Array(presented.utf8), Array(token.utf8))
                    ? nil : Self.unauthorized("invalid token")
            }
            return Self.unauthorized("missing Authorization: Bearer token")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
            return Self.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        let presented = header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        // Never echo the token, right or wrong, in the answer or a log.
        guard ConstantTime.equal(Array(presented.utf8), Array(token.utf8)) else {
            return Self.unauthorized("invalid token")
        }
        return nil
    }

    static func unauthorized(_ detail: String) -> HTTPResponse {
        ProblemFactory.unauthenticated(detail).withHeader("WWW-Authenticate", "Bearer realm=\"baton\"")
    }
}

/// Comparison whose duration does not depend on where the inputs differ.
enum ConstantTime {
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
