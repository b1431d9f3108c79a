import BatonHTTP
import Foundation

/// Bearer-token authentication of `/v1` (SPEC §4): `/healthz` needs none and webhooks
/// authenticate by their signature instead.
struct Authenticator: Sendable {
    let token: String?

    /// A 401 problem when the request must be refused, nil when it may pass.
    func refusal(for request: HTTPRequest) -> HTTPResponse? {
        guard let token else { return nil }
        let segments = request.pathSegments
        guard segments.first == "v1" else { return nil }
        if segments.count >= 2 && segments[1] == "hooks" { return nil }
        guard let header = request.headers["Authorization"] else {
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
