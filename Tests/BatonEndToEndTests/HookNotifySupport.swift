import Dispatch
import Foundation
import Glibc
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// Support of HooksTests, NotificationTests, RetryTests and ClientCommandTests: an
// independent HMAC-SHA256 (the test target has no swift-crypto, and the check must not
// borrow Baton's own), a small receiving HTTP server for notifications, a port nobody
// listens on, and a URLSession client for webhook deliveries.

/// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written for the tests only.
enum TestHMAC {
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    static func sha256(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        func rotr(_ value: UInt32, _ count: UInt32) -> UInt32 { (value >> count) | (value << (32 - count)) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let base = chunk + 4 * i
                w[i] =
                    UInt32(data[base]) << 24 | UInt32(data[base + 1]) << 16 | UInt32(data[base + 2]) << 8
                    | UInt32(data[base + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (
                state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7]
            )
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choice = (e & f) ^ (~e & g)
                let t1 = h &+ s1 &+ choice &+ roundConstants[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (index, value) in [a, b, c, d, e, f, g, h].enumerated() { state[index] = state[index] &+ value }
        }
        return state.flatMap { word in
            stride(from: 24, through: 0, by: -8).map { UInt8(truncatingIfNeeded: word >> UInt32($0)) }
        }
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? sha256(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = sha256(block.map { $0 ^ 0x36 } + message)
        return sha256(block.map { $0 ^ 0x5c } + inner)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `sha256=<hex HMAC-SHA256 of body>`, as GitHub and Baton sign.
    static func signature(_ body: Data, secret: String) -> String {
        "sha256=" + hex(hmacSHA256(key: Array(secret.utf8), message: Array(body)))
    }
}

/// One request the receiver got.
struct ReceivedRequest: Sendable {
    var method: String
    var target: String
    var headers: [(name: String, value: String)]
    var body: Data
    var receivedAt: ContinuousClock.Instant

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1:PORT (kernel-chosen) for notifications: it records
/// every request and answers them in turn with `answers`, then `thereafter`. One blocking
/// accept loop on its own thread; one request per connection (`Connection: close`).
/// `stop()` must be called (the tests do it in a `defer`).
final class NotificationReceiver: Sendable {
    let port: Int
    private let listener: Int32
    private let state: Mutex<State>
    private let finished = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let holdFirst: Bool

    private struct State {
        var answers: [Int]
        var thereafter: Int
        var requests: [ReceivedRequest] = []
        var stopped = false
    }

    /// - Parameter holdFirst: record the first request but answer it only after `release()`
    ///   (a stalled receiver; the whole receiver waits meanwhile).
    init(answers: [Int] = [], thereafter: Int = 200, holdFirst: Bool = false) throws {
        state = Mutex(State(answers: answers, thereafter: thereafter))
        self.holdFirst = holdFirst
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw E2EError("bind/listen: \(message)")
        }
        listener = fd
        port = try Self.localPort(of: fd)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "e2e-notification-receiver"
        thread.start()
    }

    static func localPort(of fd: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw E2EError("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `http://127.0.0.1:PORT` + `path`.
    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// What was received so far, in order.
    var requests: [ReceivedRequest] { state.withLock { $0.requests } }

    /// From now on, answers `status` (after the queued `answers`).
    func answerThereafter(_ status: Int) { state.withLock { $0.thereafter = status } }

    /// Lets a held first request be answered.
    func release() { released.signal() }

    /// Closes the listener and waits for the accept loop to end.
    func stop() {
        release()
        let already = state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !already else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        _ = finished.wait(timeout: .now() + 10)
        close(listener)
    }

    private func acceptLoop() {
        defer { finished.signal() }
        while !state.withLock({ $0.stopped }) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return false }
            buffer += chunk[..<count]
            return true
        }
        var headEnd: Range<Int>?
        while true {
            headEnd = buffer.firstRange(of: [13, 10, 13, 10])
            if headEnd != nil { break }
            guard fill() else { return }
        }
        guard let headEnd else { return }
        let head = String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        if header("expect")?.lowercased() == "100-continue" { Self.write(fd, "HTTP/1.1 100 Continue\r\n\r\n") }
        var body: [UInt8] = Array(buffer[headEnd.upperBound...])
        if header("transfer-encoding")?.lowercased().contains("chunked") == true {
            // Reads chunks until the last (empty) one.
            var decoded: [UInt8] = []
            var rest = body
            while true {
                guard let lineEnd = rest.firstRange(of: [13, 10]) else {
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    let count = recv(fd, &chunk, chunk.count, 0)
                    if count <= 0 { return }
                    rest += chunk[..<count]
                    continue
                }
                let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { return }
                while rest.count < lineEnd.upperBound + size + 2 {
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    let count = recv(fd, &chunk, chunk.count, 0)
                    if count <= 0 { return }
                    rest += chunk[..<count]
                }
                if size == 0 { break }
                decoded += rest[lineEnd.upperBound..<(lineEnd.upperBound + size)]
                rest = Array(rest[(lineEnd.upperBound + size + 2)...])
            }
            body = decoded
        } else {
            let length = Int(header("content-length") ?? "0") ?? 0
            buffer = body
            while buffer.count < length {
                guard fill() else { return }
            }
            body = Array(buffer.prefix(length))
        }
        let request = ReceivedRequest(
            method: requestLine.first.map(String.init) ?? "",
            target: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers, body: Data(body), receivedAt: .now)
        let (status, first) = state.withLock { state -> (Int, Bool) in
            state.requests.append(request)
            return (state.answers.isEmpty ? state.thereafter : state.answers.removeFirst(), state.requests.count == 1)
        }
        if holdFirst && first { released.wait() }
        Self.write(
            fd,
            "HTTP/1.1 \(status) Status\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    }

    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// A TCP port on 127.0.0.1 that is bound (so nobody else gets it) but not listening:
/// connecting is refused at once. Closed by `close()`.
final class RefusingPort: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw E2EError("bind: \(message)")
        }
        self.fd = fd
        port = try NotificationReceiver.localPort(of: fd)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func close() { Glibc.close(fd) }
}

/// Webhook deliveries as a CI system makes them: URLSession (libcurl) over real HTTP.
enum WebhookClient {
    /// POSTs `body` to `url` with `headers`; the answer as the tests' `HTTPResponse`.
    static func post(_ url: String, body: Data, headers: [String: String]) async throws -> HTTPResponse {
        guard let target = URL(string: url) else { throw E2EError("bad URL \(url)") }
        var request = URLRequest(url: target, timeoutInterval: 30)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: E2EError("POST \(url): \(error)"))
                } else if let http = response as? HTTPURLResponse {
                    let headers = http.allHeaderFields.map { (name: "\($0.key)", value: "\($0.value)") }
                    continuation.resume(
                        returning: HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
                } else {
                    continuation.resume(throwing: E2EError("POST \(url): no HTTP answer"))
                }
            }.resume()
        }
    }
}

extension TestServer {
    /// `http://127.0.0.1:PORT` of the current server.
    var baseURL: String {
        get throws { "http://127.0.0.1:\(try port)" }
    }

    /// A webhook delivery to `/v1/hooks/NAME` (never with a bearer token).
    func hook(_ name: String, body: Data, headers: [String: String]) async throws -> HTTPResponse {
        try await WebhookClient.post("\(try baseURL)/v1/hooks/\(name)", body: body, headers: headers)
    }

    /// Polls until `condition` holds for the run's `notifications` (generous bound).
    @discardableResult
    func waitForNotifications(
        _ id: String, within limit: Duration = .seconds(60), until condition: ([[String: Any]]) -> Bool
    ) async throws -> [String: Any] {
        try await waitForRun(id, within: limit) { run in
            condition(run["notifications"] as? [[String: Any]] ?? [])
        }
    }
}

/// Polls `read` until it holds (generous bound); async variant of `waitUntil`.
func eventually<T>(
    _ what: @autoclosure () -> String, within limit: Duration = .seconds(30),
    _ read: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        if let value = try await read() { return value }
        if ContinuousClock.now >= deadline { throw E2EError("timed out after \(limit) waiting for \(what())") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// What one poll saw of a run's first notification delivery.
struct DeliveryObservation: Sendable, CustomStringConvertible {
    var attempts: Int
    var status: String

    var description: String { "\(status)@\(attempts)" }
}

/// Polls `GET /v1/runs/ID` every 20 ms from a Dispatch thread of its own until the run's
/// first delivery is final, keeping each change. The Swift concurrency pool is not used:
/// other suites' tests can hold both of its threads on a 2-core machine for seconds, and
/// polls made from it then miss whatever changed meanwhile.
final class DeliveryWatch: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[DeliveryObservation], E2EError>?>(nil)

    init(client: HTTPClient, runID: String, within limit: Duration) {
        DispatchQueue.global().async { [self] in
            let outcome = Self.poll(client, runID, until: ContinuousClock.now + limit)
            result.withLock { $0 = outcome }
            finished.signal()
        }
    }

    /// Every change seen, oldest first (waits for the delivery to end).
    var value: [DeliveryObservation] {
        get async throws {
            try await RawSocket.offload { [self] in
                finished.wait()
                finished.signal()
                return try result.withLock { $0! }.get()
            }
        }
    }

    private static func poll(
        _ client: HTTPClient, _ runID: String, until deadline: ContinuousClock.Instant
    ) -> Result<[DeliveryObservation], E2EError> {
        var seen: [DeliveryObservation] = []
        let request = client.requestBytes("GET", "/v1/runs/\(runID)")
        while ContinuousClock.now < deadline {
            do {
                let socket = try RawSocket(host: client.host, port: client.port)
                try socket.send(request)
                let run = try HTTPResponse.parse(try socket.readToEnd()).json()
                if let delivery = (run["notifications"] as? [[String: Any]])?.first {
                    let now = DeliveryObservation(
                        attempts: delivery["attempts"] as? Int ?? -1, status: delivery["status"] as? String ?? "?")
                    if seen.last?.attempts != now.attempts || seen.last?.status != now.status { seen.append(now) }
                    if ["delivered", "failed", "skipped"].contains(now.status) { return .success(seen) }
                }
            } catch {
                return .failure(E2EError("watching the delivery of \(runID): \(error) after \(seen)"))
            }
            usleep(20_000)
        }
        return .failure(E2EError("the delivery of \(runID) did not end; seen \(seen)"))
    }
}

extension HTTPClient {
    /// Starts a ``DeliveryWatch`` on the run's first notification delivery.
    func watchDelivery(of runID: String, within limit: Duration) -> DeliveryWatch {
        DeliveryWatch(client: self, runID: runID, within: limit)
    }
}
