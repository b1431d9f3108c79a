import Dispatch
import Foundation
import Glibc

/// An HTTP/1.1 answer read off the wire.
struct HTTPResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    /// The first header called `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The media type of `Content-Type`, without parameters.
    var mediaType: String? {
        header("Content-Type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw E2EError("not a JSON object (\(status)): \(text.prefix(2000))")
        }
        return object
    }

    var description: String {
        "HTTP \(status) " + headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ")
            + "\n\(text.prefix(2000))"
    }
}

/// A deliberately small HTTP/1.1 client over raw sockets: full control over the bytes on
/// the wire (dot segments and `%00` in paths are sent as they are, which libcurl would
/// normalise), one connection per request (`Connection: close`), blocking I/O on a
/// Dispatch thread so the Swift concurrency pool never blocks.
struct HTTPClient: Sendable {
    var host = "127.0.0.1"
    var port: Int
    /// Sent as `Authorization: Bearer` unless a request says otherwise.
    var token: String?

    init(port: Int, token: String? = nil) {
        self.port = port
        self.token = token
    }

    /// One request; `authorization` nil means the client's token (if any), "" means none.
    @discardableResult
    func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil, authorization: String? = nil, timeout: Duration = .seconds(30)
    ) async throws -> HTTPResponse {
        let bytes = requestBytes(
            method, target, headers: headers, body: body, contentType: contentType, authorization: authorization)
        return try await exchange(bytes, timeout: timeout)
    }

    /// The bytes of a request (see ``request(_:_:headers:body:contentType:authorization:timeout:)``).
    func requestBytes(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil, authorization: String? = nil
    ) -> Data {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        let auth = authorization ?? token.map { "Bearer \($0)" } ?? ""
        if !auth.isEmpty { head += "Authorization: \(auth)\r\n" }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if body != nil || method == "POST" || method == "PUT" { head += "Content-Length: \(body?.count ?? 0)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Data(head.utf8) + (body ?? Data())
    }

    func get(_ target: String, headers: [(String, String)] = []) async throws -> HTTPResponse {
        try await request("GET", target, headers: headers)
    }

    @discardableResult
    func post(_ target: String, body: Data? = nil, contentType: String? = nil) async throws -> HTTPResponse {
        try await request("POST", target, body: body, contentType: contentType)
    }

    /// POST `object` serialised as JSON.
    @discardableResult
    func post(_ target: String, json object: Any) async throws -> HTTPResponse {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return try await request("POST", target, body: data, contentType: "application/json")
    }

    /// Sends `bytes` exactly as given on a fresh connection and reads the answer.
    func exchange(_ bytes: Data, timeout: Duration = .seconds(30)) async throws -> HTTPResponse {
        try await timedExchange(bytes, timeout: timeout).response
    }

    /// ``exchange(_:timeout:)``, and how long it took from the connect to the last byte,
    /// measured on the Dispatch thread doing the I/O: a test that times the server must not
    /// also time how long the Swift concurrency pool took to resume it (other suites' blocking
    /// tests can hold both of a 2-core machine's pool threads for seconds).
    func timedExchange(_ bytes: Data, timeout: Duration = .seconds(30)) async throws -> (
        response: HTTPResponse, wire: Duration
    ) {
        let host = host
        let port = port
        return try await RawSocket.offload {
            let started = ContinuousClock.now
            let socket = try RawSocket(host: host, port: port, readTimeout: timeout)
            try socket.send(bytes)
            let data = try socket.readToEnd()
            let wire = ContinuousClock.now - started
            return (try HTTPResponse.parse(data, bodiless: bytes.starts(with: Data("HEAD ".utf8))), wire)
        }
    }
}

extension HTTPResponse {
    /// Parses a whole response (status line, headers, body by Content-Length or chunked).
    /// `bodiless`: the answer to a HEAD request, whose Content-Length describes a body
    /// that is not sent.
    static func parse(_ data: Data, bodiless: Bool = false) throws -> HTTPResponse {
        let bytes = [UInt8](data)
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else {
            throw E2EError(
                "no complete response head in \(bytes.count) bytes: \(String(decoding: bytes.prefix(500), as: UTF8.self))"
            )
        }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw E2EError("bad status line in \(head)")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = HTTPResponse(status: status, headers: headers, body: Data())
        let rest = Array(bytes[end.upperBound...])
        if bodiless || status == 204 || status == 304 {
            response.body = Data(rest)
        } else if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            response.body = try dechunk(rest)
        } else if let length = response.header("Content-Length").flatMap(Int.init) {
            guard rest.count >= length else {
                throw E2EError("body shorter (\(rest.count)) than Content-Length \(length)")
            }
            response.body = Data(rest.prefix(length))
        } else {
            response.body = Data(rest)
        }
        return response
    }

    private static func dechunk(_ bytes: [UInt8]) throws -> Data {
        var body = Data()
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: [13, 10]) else { throw E2EError("bad chunk") }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                throw E2EError("bad chunk size \(sizeText)")
            }
            index = lineEnd.upperBound
            if size == 0 { return body }
            guard index + size <= bytes.count else { throw E2EError("truncated chunk") }
            body.append(contentsOf: bytes[index..<index + size])
            index += size + 2
        }
    }
}

/// A blocking TCP socket to a loopback server (CLOEXEC: the tasks other tests spawn must
/// not inherit it).
///
/// `@unchecked Sendable`: a socket descriptor; each test drives one socket from one thread
/// at a time.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(host: String = "127.0.0.1", port: Int, readTimeout: Duration = .seconds(30)) throws {
        // `self.fd` is set only once connected: a class whose stored properties are all
        // set runs its deinit when its init throws, and that second close(2) of a failed
        // connect's descriptor hit whatever another test had opened under the same number
        // meanwhile (a concurrent test's socket: "send: Bad file descriptor").
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw E2EError("connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        let (seconds, attoseconds) = readTimeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// Hangs up both directions (the peer sees the connection close), keeping the fd.
    func shutdownBoth() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Writes all of `bytes` (MSG_NOSIGNAL: a closed peer throws instead of raising SIGPIPE).
    func send(_ bytes: Data) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw E2EError("send: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    func send(_ text: String) throws { try send(Data(text.utf8)) }

    /// Reads until the peer closes (or the read timeout, which throws).
    func readToEnd() throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                data.append(contentsOf: buffer[..<count])
            } else if count == 0 {
                return data
            } else if errno == EINTR {
                continue
            } else if errno == ECONNRESET && !data.isEmpty {
                return data
            } else {
                throw E2EError(
                    "recv after \(data.count) bytes: \(String(cString: strerror(errno))): "
                        + String(decoding: data.prefix(300), as: UTF8.self))
            }
        }
    }

    /// Runs blocking socket work on a Dispatch thread, off the Swift concurrency pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
