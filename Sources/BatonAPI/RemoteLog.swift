import BatonHTTP
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Cluster mode: a task's log lives in the data directory of the node that ran the
/// attempt; any node answers for it by asking that node (one GET, the client's token
/// passed on). The answer keeps the log headers (`X-Log-Size`, `X-Log-Complete`), so a
/// client tails a log the same way whichever node it asks.
enum RemoteLog {
    /// Marks a request one node makes to another: the receiver serves its own file and
    /// never asks further (no loops between nodes that disagree).
    static let proxiedHeader = "X-Baton-Proxied"

    /// How long a node waits for another's answer.
    static let timeoutSeconds = 10.0

    static func fetch(
        from holder: (node: String, url: String?), path: String, attempt: Int, offset: Int, authorization: String?
    ) -> HTTPResponse {
        guard let base = holder.url, let url = URL(string: "\(base)\(path)?attempt=\(attempt)&offset=\(offset)") else {
            return .problem(
                502, detail: "the log is on node \(holder.node), whose address is not known (it never listened)")
        }
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.setValue("1", forHTTPHeaderField: proxiedHeader)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let answer = Mutex<(Data?, HTTPURLResponse?, (any Error)?)>((nil, nil, nil))
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            answer.withLock { $0 = (data, response as? HTTPURLResponse, error) }
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = answer.withLock { $0 }
        guard let response else {
            return .problem(
                502,
                detail:
                    "the log is on node \(holder.node) (\(base)), which did not answer: \(error.map { "\($0)" } ?? "no response")"
            )
        }
        var headers: [(String, String)] = []
        for name in ["Content-Type", "X-Log-Size", "X-Log-Complete"] {
            if let value = response.value(forHTTPHeaderField: name) { headers.append((name, value)) }
        }
        return HTTPResponse(status: response.statusCode, headers: headers, body: data ?? Data())
    }
}
