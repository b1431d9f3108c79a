import BatonCore
import CMicroHTTPD
import Foundation
import Logging

/// The request path through the callbacks: `begin` and `earlyResponse` when the headers are
/// in, `finalResponse` once the whole body is in, `queue` to answer, and `complete` when
/// libmicrohttpd is done with the request. All run on the connection's worker thread.
extension ServerContext {
    /// Parses the head of a new request. The caller stores the result in `*req_cls`.
    func begin(
        connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
        version: UnsafePointer<CChar>?
    ) -> RequestAccumulator {
        let requestID = HTTPRequest.makeRequestID()
        let headers = ConnectionValues.read(connection, kind: .HEADER_KIND)
        let query = ConnectionValues.read(connection, kind: .GET_ARGUMENT_KIND)
        let fields = HTTPHeaders(headers.pairs.map { HTTPHeaders.Field(name: $0.key, value: $0.value ?? "") })
        let head = Result { () throws(RequestTargetError) -> HTTPRequest in
            guard let method, let url,
                let methodText = String(validatingCString: method),
                let pathText = String(validatingCString: url),
                !query.hasInvalidUTF8
            else { throw .invalidUTF8 }
            var decoded: [String: String] = [:]
            for (key, value) in query.pairs {
                // libmicrohttpd split on '&' and '=' and turned '+' into ' '; the identity
                // unescape callback left the %-escapes for us.
                let name = try PercentDecoding.decode(key[...])
                let text = try PercentDecoding.decode((value ?? "")[...])
                if decoded[name] == nil { decoded[name] = text }
            }
            return try HTTPRequest(
                method: methodText, path: pathText, query: decoded, headers: fields,
                requestID: requestID)
        }
        let expectedLength = fields["Content-Length"].flatMap { Int($0) }
        // A strcmp, not a String: this runs for every request; only a stream needs it.
        let isHTTP11 = version.map { strcmp($0, "HTTP/1.1") == 0 } ?? false
        return RequestAccumulator(
            requestID: requestID,
            logMethod: method.map { String(cString: $0) } ?? "",
            logPath: url.map { String(cString: $0) } ?? "",
            head: head, maxBodyBytes: maxBodyBytes, expectedLength: expectedLength, isHTTP11: isHTTP11)
    }

    /// Answers before the body is read when the target is malformed, `Content-Length` is
    /// over the limit, or the preflight check refuses the request; otherwise `nil`.
    /// libmicrohttpd then discards the body and closes the connection after the response.
    func earlyResponse(for accumulator: RequestAccumulator) -> HTTPResponse? {
        let request: HTTPRequest
        switch accumulator.head {
        case .failure(let error):
            return ProblemFactory.badRequest(error.description)
        case .success(let head):
            request = head
        }
        let length = request.headers["Content-Length"].flatMap { Int($0) }
        if let length, length > maxBodyBytes {
            return ProblemFactory.contentTooLarge(limit: maxBodyBytes)
        }
        if let refusal = preflight?(request) { return refusal }
        if let limit = bodyLimit?(request), limit < accumulator.maxBodyBytes {
            accumulator.maxBodyBytes = limit
            if let length, length > limit { return ProblemFactory.contentTooLarge(limit: limit) }
        }
        accumulator.budget = budget
        if let length, length > 0 {
            guard budget.reserve(length) else {
                return ProblemFactory.serviceUnavailable(
                    "the server is receiving too many request bodies at once; retry later", retryAfterSeconds: 1)
            }
            accumulator.reserved = length
        }
        return nil
    }

    /// The response to a fully received request.
    func finalResponse(for accumulator: RequestAccumulator) -> HTTPResponse {
        if accumulator.exceededBudget {
            return ProblemFactory.serviceUnavailable(
                "the server is receiving too many request bodies at once; retry later", retryAfterSeconds: 1)
        }
        if accumulator.exceededLimit {
            return ProblemFactory.contentTooLarge(limit: accumulator.maxBodyBytes)
        }
        switch accumulator.head {
        case .failure(let error):
            // Normally answered early; kept for completeness.
            return ProblemFactory.badRequest(error.description)
        case .success(var request):
            request.body = accumulator.body
            return handler(request)
        }
    }

    /// Answers a complete request: queues the handler's response, or, for a long-poll,
    /// suspends the connection until its answer is ready (called again on every resume).
    func answer(_ accumulator: RequestAccumulator, on connection: OpaquePointer) -> MHD_Result {
        if accumulator.deferred == nil {
            let response = finalResponse(for: accumulator)
            guard let deferred = response.deferred else {
                return queue(response, on: connection, for: accumulator)
            }
            accumulator.route = response.route
            accumulator.deferred = deferred
            deferred.attach(waker(for: accumulator, connection))
        }
        guard let deferred = accumulator.deferred, let waker = accumulator.waker else { return .NO }
        while true {
            if var response = deferred.reply(closing: waker.isClosing) {
                accumulator.deferred = nil
                deferred.close()
                response.route = response.route ?? accumulator.route
                return queue(response, on: connection, for: accumulator)
            }
            if waker.suspendUnlessWoken() { return .YES }
        }
    }

    /// The request's waker, created and registered on first use.
    private func waker(for accumulator: RequestAccumulator, _ connection: OpaquePointer) -> ConnectionWaker {
        if let waker = accumulator.waker { return waker }
        let waker = ConnectionWaker(connection: connection)
        accumulator.waker = waker
        register(waker)
        return waker
    }

    /// Whether a streamed answer to this request may be written to directly as chunks.
    /// libmicrohttpd 0.9.75 sends a body of unknown length chunked to every HTTP/1.1 (to
    /// 1.9) client (setup_reply_properties), and bare, closing after it, to HTTP/1.0.
    /// Streams are written to directly (ConnectionWaker.sendChunk) only in the plainest of
    /// those cases, HTTP/1.1 without `Connection: close` and not HEAD: a strict subset, so
    /// the bytes are never framed as chunks where the library sends them bare.
    static func streamsChunked(_ accumulator: RequestAccumulator) -> Bool {
        guard accumulator.isHTTP11, accumulator.logMethod != "HEAD", case .success(let request) = accumulator.head
        else { return false }
        let closes = request.headers.values(for: "Connection").contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
        return !closes
    }

    /// Hands `response` to libmicrohttpd for `connection` and notes its status for the log.
    func queue(
        _ response: HTTPResponse, on connection: OpaquePointer, for accumulator: RequestAccumulator
    ) -> MHD_Result {
        var response = response
        if !(200...599).contains(response.status) {
            var replacement = ProblemFactory.internalServerError(requestID: accumulator.requestID)
            replacement.diagnostic = "handler answered invalid status \(response.status)"
            response = replacement
        }
        let created: OpaquePointer?
        if let stream = response.stream {
            let waker = waker(for: accumulator, connection)
            waker.bodyIsChunked = Self.streamsChunked(accumulator)
            stream.attach(waker)
            accumulator.stream = stream
            let reader = StreamReader(stream: stream, waker: waker)
            created = baton_mhd_create_stream_response(
                16 * 1024,
                { cls, _, buffer, max in
                    guard let cls, let buffer else { return baton_mhd_stream_error() }
                    return Unmanaged<StreamReader>.fromOpaque(cls).takeUnretainedValue()
                        .read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max))
                },
                Unmanaged.passRetained(reader).toOpaque(),
                { cls in
                    guard let cls else { return }
                    Unmanaged<StreamReader>.fromOpaque(cls).release()
                })
        } else if let file = response.file {
            // libmicrohttpd reads (or sendfile()s) the bytes as the socket takes them and
            // closes the descriptor with the response.
            created = MHD_create_response_from_fd_at_offset64(
                UInt64(file.length), file.takeDescriptor(), UInt64(file.offset))
        } else {
            created = response.body.withUnsafeBytes { bytes in
                // MUST_COPY: libmicrohttpd copies the bytes, so the Data may go away after this.
                MHD_create_response_from_buffer(
                    bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                    .RESPMEM_MUST_COPY)
            }
        }
        guard let mhdResponse = created else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers where MHD_add_response_header(mhdResponse, name, value) == .NO {
            // Only the name: values may be secrets.
            logger.warning(
                "dropped an invalid response header",
                metadata: ["header": "\(name)", "request_id": "\(accumulator.requestID)"])
        }
        _ = MHD_add_response_header(mhdResponse, "X-Request-Id", accumulator.requestID)
        accumulator.status = response.status
        accumulator.diagnostic = response.diagnostic
        accumulator.route = response.route ?? accumulator.route
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    /// Writes the request's single log line: method, raw path, status, duration and id —
    /// never header values or bodies.
    func complete(_ accumulator: RequestAccumulator, termination: MHD_RequestTerminationCode) {
        accumulator.budget?.release(accumulator.reserved)
        accumulator.reserved = 0
        if let waker = accumulator.waker {
            waker.detach()
            unregister(waker)
        }
        accumulator.deferred?.close()
        accumulator.stream?.close()
        onRequest?(
            CompletedRequest(
                route: accumulator.route, method: accumulator.logMethod, status: accumulator.status,
                durationSeconds: accumulator.elapsedMilliseconds / 1000))
        var metadata: Logger.Metadata = [
            "method": "\(accumulator.logMethod)",
            "path": "\(accumulator.logPath)",
            "status": "\(accumulator.status.map(String.init) ?? "none")",
            "duration_ms": "\(Self.milliseconds(accumulator.elapsedMilliseconds))",
            "request_id": "\(accumulator.requestID)",
        ]
        if termination != .REQUEST_TERMINATED_COMPLETED_OK {
            metadata["termination"] = "\(Self.describe(termination))"
        }
        if let diagnostic = accumulator.diagnostic {
            metadata["diagnostic"] = "\(diagnostic)"
        }
        let level: Logger.Level = (accumulator.status ?? 0) >= 500 ? .error : .info
        logger.log(level: level, "request", metadata: metadata)
    }

    /// The request's duration as `%.3f` would write it.
    static func milliseconds(_ value: Double) -> String {
        FixedPoint.format(value, decimals: 3)
    }

    private static func describe(_ termination: MHD_RequestTerminationCode) -> String {
        switch termination {
        case .REQUEST_TERMINATED_COMPLETED_OK: "completed"
        case .REQUEST_TERMINATED_WITH_ERROR: "error"
        case .REQUEST_TERMINATED_TIMEOUT_REACHED: "timeout"
        case .REQUEST_TERMINATED_DAEMON_SHUTDOWN: "shutdown"
        case .REQUEST_TERMINATED_READ_ERROR: "read_error"
        case .REQUEST_TERMINATED_CLIENT_ABORT: "client_abort"
        @unknown default: "code \(termination.rawValue)"
        }
    }
}
