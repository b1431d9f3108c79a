import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A parsed HTTP/1.1 response read off a raw socket.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw RawHTTPError.malformed("body is not a JSON object: \(text)")
        }
        return object
    }
}

enum RawHTTPError: Error, CustomStringConvertible {
    case system(String, Int32)
    case closed
    case malformed(String)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .closed: "connection closed before a full response"
        case .malformed(let what): "malformed response: \(what)"
        }
    }
}

/// A blocking TCP connection for tests that need control over the bytes on the wire
/// (partial requests, stalls, raw non-UTF-8 paths, oversized bodies).
final class RawHTTPConnection {
    let fd: Int32
    private var buffer = Data()

    /// Connects to `host:port` (IPv4 or IPv6 literal); reads time out after `readTimeout`.
    init(host: String = "127.0.0.1", port: Int, readTimeout: Duration = .seconds(10)) throws {
        let isV6 = host.contains(":")
        // CLOEXEC: processes spawned by other tests in this process must not inherit it.
        // `self.fd` is set only once connected: with every stored property set, a throwing
        // init runs deinit, whose second close(2) would hit another test's descriptor.
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.system("socket", errno) }
        var result: Int32
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port)).bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            _ = inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw RawHTTPError.system("connect", code)
        }
        self.fd = fd
        setReadTimeout(readTimeout)
    }

    deinit {
        close(fd)
    }

    func setReadTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes` (MSG_NOSIGNAL: a reset connection throws instead of SIGPIPE).
    func send(_ bytes: Data) throws {
        try Self.send(bytes, to: fd)
    }

    /// Writes all of `bytes` to socket `fd`; usable from another thread than the reader.
    static func send(_ bytes: Data, to fd: Int32) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RawHTTPError.system("send", errno)
                }
                offset += written
            }
        }
    }

    func send(_ text: String) throws {
        try send(Data(text.utf8))
    }

    /// Sends a whole request with `Content-Length` (when there is a body or `method` is not GET).
    func sendRequest(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: Data = Data()
    ) throws {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method != "GET" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Data(head.utf8) + body)
    }

    /// Reads one response (headers, then a `Content-Length` body).
    func readResponse() throws -> RawResponse {
        let separator = Data("\r\n\r\n".utf8)
        var headerEnd: Range<Data.Index>?
        while true {
            headerEnd = buffer.range(of: separator)
            if headerEnd != nil { break }
            try fill()
        }
        let headText = String(decoding: buffer[buffer.startIndex..<headerEnd!.lowerBound], as: UTF8.self)
        buffer = Data(buffer[headerEnd!.upperBound...])
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw RawHTTPError.malformed(headText)
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (
                String(line[..<colon]),
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while buffer.count < length { try fill() }
        let body = Data(buffer.prefix(length))
        buffer = Data(buffer.dropFirst(length))
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// Whether the peer closed the connection (EOF or reset) within the read timeout.
    func waitForClose() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 {
                if errno == EINTR { continue }
                return errno == ECONNRESET
            }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count == 0 { throw RawHTTPError.closed }
        if count < 0 {
            if errno == EINTR { return }
            throw RawHTTPError.system("recv", errno)
        }
        buffer.append(contentsOf: chunk[..<count])
    }
}

extension RawHTTPConnection {
    /// One request on a fresh connection, answered.
    static func request(
        port: Int, _ method: String, _ target: String, headers: [(String, String)] = [],
        body: Data = Data()
    ) throws -> RawResponse {
        let connection = try RawHTTPConnection(port: port)
        try connection.sendRequest(method, target, headers: headers + [("Connection", "close")], body: body)
        return try connection.readResponse()
    }
}
