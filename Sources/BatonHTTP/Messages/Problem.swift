import Foundation

/// An RFC 9457 problem document, Baton's error body (SPEC §4):
/// `{"type", "title", "status", "detail", "errors": [{"path", "message"}]}`.
public struct Problem: Codable, Sendable, Equatable {
    /// A URI naming the problem type; `about:blank` when the status says it all.
    public var type: String
    /// A short summary; for `about:blank` the status's reason phrase.
    public var title: String
    /// The HTTP status code, repeated in the body.
    public var status: Int
    /// What went wrong with this request, for a human.
    public var detail: String
    /// Every individual error, e.g. each failed validation with its path; may be empty.
    public var errors: [ProblemField]

    /// Creates a problem; `title` defaults to the reason phrase of `status`.
    public init(
        status: Int, title: String? = nil, detail: String, errors: [ProblemField] = [],
        type: String = "about:blank"
    ) {
        self.type = type
        self.title = title ?? HTTPStatus.reasonPhrase(status)
        self.status = status
        self.detail = detail
        self.errors = errors
    }

    /// The media type of a rendered problem.
    public static let contentType = "application/problem+json"
}

/// One entry of ``Problem/errors``: where (`tasks[3].depends_on[0]`) and what.
public struct ProblemField: Codable, Sendable, Equatable {
    /// Where the error is, e.g. `tasks[3].depends_on[0]` or `query.limit`.
    public var path: String
    /// What is wrong there.
    public var message: String

    /// Creates an entry.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

extension HTTPResponse {
    /// `problem` rendered by `JSONEncoder` as `application/problem+json`, with its status.
    public static func problem(_ problem: Problem) -> HTTPResponse {
        let body: Data
        do {
            body = try JSONEncoder().encode(problem)
        } catch {
            // Unreachable: a Problem holds only strings and an integer.
            preconditionFailure("encoding a Problem failed: \(error)")
        }
        return HTTPResponse(
            status: problem.status, headers: [("Content-Type", Problem.contentType)], body: body)
    }

    /// A problem response; `title` defaults to the reason phrase of `status`.
    public static func problem(
        _ status: Int, title: String? = nil, detail: String, errors: [ProblemField] = [],
        type: String = "about:blank"
    ) -> HTTPResponse {
        problem(Problem(status: status, title: title, detail: detail, errors: errors, type: type))
    }
}
