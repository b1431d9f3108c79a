import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the client commands find the server: `--server`, else `BATON_SERVER`, else the
/// default address; the token from `--token-file`, else `BATON_TOKEN`.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's base URL (default: $BATON_SERVER or http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "File holding the API token (default: $BATON_TOKEN).")
    var tokenFile: String?

    func client() throws -> APIClient {
        let base = server ?? ProcessInfo.processInfo.environment["BATON_SERVER"] ?? "http://127.0.0.1:8080"
        guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) : base), url.scheme != nil else {
            throw ClientFailure.usage("invalid server URL \"\(base)\"")
        }
        var token = ProcessInfo.processInfo.environment["BATON_TOKEN"]
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ClientFailure.usage("cannot read the token file \(tokenFile)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return APIClient(base: url, token: token)
    }
}

/// A small synchronous HTTP client for the v1 API (URLSession, libcurl underneath).
struct APIClient {
    let base: URL
    let token: String?

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    func send(
        _ method: String, _ path: String, body: Data? = nil, contentType: String? = nil,
        headers extra: [String: String] = [:]
    ) throws -> Answer {
        guard let url = URL(string: base.absoluteString + path) else {
            throw ClientFailure.usage("invalid path \(path)")
        }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        let box = AnswerBox()
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failure(ClientFailure.unreachable("\(base.absoluteString): \(error.localizedDescription)")))
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    headers["\(key)"] = "\(value)"
                }
                box.set(.success(Answer(status: http.statusCode, headers: headers, body: data ?? Data())))
            } else {
                box.set(.failure(ClientFailure.unreachable("no HTTP answer from \(base.absoluteString)")))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.get()
    }

    /// Sends and decodes a 2xx JSON answer; other statuses become a `ClientFailure`.
    func json<T: Decodable>(
        _ type: T.Type, _ method: String, _ path: String, body: Data? = nil, contentType: String? = nil
    ) throws -> T {
        let answer = try send(method, path, body: body, contentType: contentType)
        try Self.check(answer)
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw ClientFailure.unexpected("could not read the server's answer: \(error)")
        }
    }

    /// Throws the server's problem for a non-2xx answer.
    static func check(_ answer: Answer) throws {
        guard !(200..<300).contains(answer.status) && answer.status != 304 else { return }
        throw ClientFailure.problem(answer.status, ProblemText.describe(answer.body))
    }
}

/// Pulls title, detail and field errors out of a problem+json body.
enum ProblemText {
    static func describe(_ body: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return String(decoding: body.prefix(200), as: UTF8.self)
        }
        var text = (object["detail"] as? String) ?? (object["title"] as? String) ?? "error"
        if let errors = object["errors"] as? [[String: Any]], !errors.isEmpty {
            text +=
                "\n"
                + errors.map { "  \($0["path"] as? String ?? ""): \($0["message"] as? String ?? "")" }
                .joined(separator: "\n")
        }
        return text
    }
}

/// Client failures with their documented exit codes.
enum ClientFailure: Error, CustomStringConvertible {
    case usage(String)
    case unreachable(String)
    case problem(Int, String)
    case unexpected(String)

    var description: String {
        switch self {
        case .usage(let message), .unreachable(let message), .unexpected(let message): return message
        case .problem(let status, let message): return "HTTP \(status): \(message)"
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .usage: return BatonExit.badInput
        case .unreachable, .unexpected: return ExitCode(5)
        case .problem(let status, _):
            switch status {
            case 401, 403: return ExitCode(7)
            case 404: return ExitCode(6)
            case 409: return ExitCode(8)
            case 400, 413, 415: return BatonExit.badInput
            default: return ExitCode(5)
            }
        }
    }
}

/// Runs a client body, printing a failure as one line on stderr with its exit code.
func runClient(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as ClientFailure {
        Console.error("baton: \(failure)")
        throw failure.exitCode
    }
}

/// URLSession's answer handed to the waiting thread.
private final class AnswerBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore signal, read after the wait.
    private var result: Result<APIClient.Answer, Error>?
    private let lock = NSLock()

    func set(_ value: Result<APIClient.Answer, Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() throws -> APIClient.Answer {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw ClientFailure.unreachable("no answer") }
        return try result.get()
    }
}
