import BatonCore
import Crypto
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension Notifier {
    enum Outcome: Equatable {
        case delivered
        /// A 4xx or a malformed URL: trying again will not help.
        case permanent(String)
        /// A network error or a 5xx.
        case retryable(String)
    }

    /// The `X-Baton-Signature-256` value: `sha256=` + hex HMAC-SHA256 of the body.
    public static func signature(body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// One POST with URLSession (libcurl underneath), waited for on this thread.
    static func post(_ record: NotificationRecord) -> Outcome {
        guard let url = URL(string: record.url), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            return .permanent("invalid url")
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = record.body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("baton", forHTTPHeaderField: "User-Agent")
        request.setValue("run.finished", forHTTPHeaderField: "X-Baton-Event")
        request.setValue("\(record.runID)-\(record.index)", forHTTPHeaderField: "X-Baton-Delivery")
        if let secret = record.secret {
            request.setValue(signature(body: record.body, secret: secret), forHTTPHeaderField: "X-Baton-Signature-256")
        }
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let task = URLSession.shared.dataTask(with: request) { _, response, error in
            if let error {
                result.set(.retryable("network error: \(error.localizedDescription)"))
            } else if let http = response as? HTTPURLResponse {
                switch http.statusCode {
                case 200..<300: result.set(.delivered)
                case 500...: result.set(.retryable("HTTP \(http.statusCode)"))
                default: result.set(.permanent("HTTP \(http.statusCode)"))
                }
            } else {
                result.set(.retryable("no HTTP response"))
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + 15) == .timedOut {
            task.cancel()
            return .retryable("timed out")
        }
        return result.get() ?? .retryable("no answer")
    }
}

/// The outcome handed from URLSession's delegate queue to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore signal, read after the wait.
    private var value: Notifier.Outcome?
    private let lock = NSLock()

    func set(_ outcome: Notifier.Outcome) {
        lock.lock()
        value = outcome
        lock.unlock()
    }

    func get() -> Notifier.Outcome? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
