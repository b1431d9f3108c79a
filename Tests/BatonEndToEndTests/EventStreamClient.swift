import Foundation
import Glibc

/// One Server-Sent Events frame as a client sees it.
struct SSEFrame: Sendable, CustomStringConvertible {
    var id: String?
    var event: String
    var data: String

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else {
            throw E2EError("event data is not an object: \(data)")
        }
        return object
    }

    var description: String { "\(event) \(id ?? "-") \(data.prefix(200))" }
}

/// A raw `GET /v1/events` connection read frame by frame (HTTP/1.1, chunked), as a
/// browser's EventSource would, with the status and headers of the answer.
///
/// `@unchecked Sendable`: used from one test at a time; the socket work runs on Dispatch
/// threads through `HTTPClient.offload`.
final class EventStreamClient: @unchecked Sendable {
    let socket: RawSocket
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private(set) var comments = 0
    private var raw: [UInt8] = []
    private var decoded: [UInt8] = []
    private var headerDone = false

    /// Opens the stream; `target` like `/v1/events?run=ID`.
    init(
        port: Int, target: String, headers extra: [(String, String)] = [], readTimeout: Duration = .seconds(30),
        version: String = "HTTP/1.1"
    ) throws {
        socket = try RawSocket(port: port, readTimeout: readTimeout)
        var head = "GET \(target) \(version)\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        try socket.send(head + "\r\n")
    }

    /// Reads until the next frame (comments are counted, not returned); nil when the
    /// server closed the stream.
    func next() throws -> SSEFrame? {
        while true {
            if let frame = takeFrame() { return frame }
            guard try receive() else {
                return takeFrame()
            }
        }
    }

    /// Reads frames until one has `event`, or throws after `limit`.
    func next(_ event: String, within limit: Duration = .seconds(20)) throws -> SSEFrame {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let frame = try next() else { throw E2EError("stream closed before \(event)") }
            if frame.event == event { return frame }
        }
        throw E2EError("no \(event) within \(limit)")
    }

    /// Reads the status line and headers (and whatever body came with them).
    func readHead() throws {
        while !headerDone { guard try receive() else { throw E2EError("closed before the head") } }
    }

    /// One recv; false at EOF.
    private func receive() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let count = recv(socket.fd, &buffer, buffer.count, 0)
        if count < 0 {
            if errno == EINTR { return true }
            throw E2EError("recv: \(String(cString: strerror(errno)))")
        }
        if count == 0 { return false }
        raw += buffer[..<count]
        parse()
        if let framingError { throw E2EError(framingError) }
        return true
    }

    /// Set when the chunked coding is broken (a size line that is not hex, or chunk data
    /// not followed by CRLF): the server wrote a chunk in pieces or out of turn.
    private(set) var framingError: String?

    private func parse() {
        if !headerDone {
            guard let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let text = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
            var lines = text.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
            for line in lines {
                if let colon = line.firstIndex(of: ":") {
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                        .trimmingCharacters(in: .whitespaces)
                }
            }
            raw.removeSubrange(..<end.upperBound)
            headerDone = true
        }
        guard headers["transfer-encoding"]?.lowercased() == "chunked" else {
            decoded += raw
            raw.removeAll()
            return
        }
        // Chunks: HEX\r\nBYTES\r\n …
        while let lineEnd = raw.firstRange(of: Array("\r\n".utf8)) {
            let sizeText = String(decoding: raw[..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                framingError = "chunk size line \(sizeText.prefix(40).debugDescription) is not hex"
                return
            }
            let start = lineEnd.upperBound
            guard raw.count >= start + size + 2 else { return }
            guard raw[(start + size)..<(start + size + 2)].elementsEqual("\r\n".utf8) else {
                framingError = "chunk of \(size) bytes not followed by CRLF"
                return
            }
            decoded += raw[start..<(start + size)]
            raw.removeSubrange(..<(start + size + 2))
        }
    }

    private func takeFrame() -> SSEFrame? {
        while let end = decoded.firstRange(of: Array("\n\n".utf8)) {
            let block = String(decoding: decoded[..<end.lowerBound], as: UTF8.self)
            decoded.removeSubrange(..<end.upperBound)
            var frame = SSEFrame(id: nil, event: "message", data: "")
            var hasField = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    comments += 1
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { continue }
                let field = line[..<colon]
                var value = line[line.index(after: colon)...]
                if value.hasPrefix(" ") { value = value.dropFirst() }
                switch field {
                case "id": frame.id = String(value); hasField = true
                case "event": frame.event = String(value); hasField = true
                case "data": frame.data += (frame.data.isEmpty ? "" : "\n") + value; hasField = true
                default: break
                }
            }
            if hasField && (frame.event != "message" || !frame.data.isEmpty) { return frame }
        }
        return nil
    }
}
