import Foundation

/// One request's state across libmicrohttpd's access-handler calls: the head parsed when the
/// headers are in, the body as its pieces arrive, and what the request log line needs.
///
/// Lifetime: created on the first access-handler call and handed to libmicrohttpd as
/// `*req_cls` with `Unmanaged.passRetained`; released by the request-completed callback
/// (MHD_OPTION_NOTIFY_COMPLETED), which libmicrohttpd calls for every request the access
/// handler has seen, also on timeouts, client aborts and daemon shutdown.
///
/// Threading: a connection is served by one libmicrohttpd worker thread at a time, and
/// every call touching this object (access handler, completion) runs there, so it needs no
/// lock. It is deliberately not `Sendable`.
final class RequestAccumulator {
    /// The request id, sent as `X-Request-Id` and logged.
    let requestID: String
    /// When the headers were in.
    let started: ContinuousClock.Instant
    /// Method and raw path for the log line (lossily decoded if they were not UTF-8).
    let logMethod: String
    let logPath: String
    /// The parsed head (empty body), or why the target was refused.
    let head: Result<HTTPRequest, RequestTargetError>
    /// The largest body accepted (lowered for some routes once the headers are in).
    var maxBodyBytes: Int
    /// The shared budget of buffered bodies, and the bytes this request holds of it.
    var budget: BodyBudget?
    var reserved = 0
    /// Whether a body without `Content-Length` ran out of the shared budget: it is then
    /// discarded and the request answered `503`.
    private(set) var exceededBudget = false

    /// The body received so far (emptied once the limit is exceeded).
    private(set) var body = Data()
    /// Whether the body went over ``maxBodyBytes``; the rest is then discarded unread.
    private(set) var exceededLimit = false
    /// Bytes thrown away after the limit was exceeded.
    private(set) var discardedBytes = 0

    /// The status queued, once a response is queued.
    var status: Int?
    /// A diagnostic for the log line (the cause of a 500), never sent.
    var diagnostic: String?
    /// The route template that answered, for metrics.
    var route: String?
    /// A long-poll answer still to come, and the waker of its suspended connection.
    var deferred: (any HTTPDeferredReply)?
    /// The stream of a streamed body, closed when the request completes.
    var stream: (any HTTPBodyStream)?
    /// Set while the connection may be suspended (deferred answer or stream).
    var waker: ConnectionWaker?
    /// Whether the request line said HTTP/1.1 (see ServerContext.streamsChunked).
    let isHTTP11: Bool

    init(
        requestID: String, logMethod: String, logPath: String,
        head: Result<HTTPRequest, RequestTargetError>, maxBodyBytes: Int, expectedLength: Int?,
        isHTTP11: Bool = false
    ) {
        self.isHTTP11 = isHTTP11
        self.requestID = requestID
        self.started = ContinuousClock.now
        self.logMethod = logMethod
        self.logPath = logPath
        self.head = head
        self.maxBodyBytes = maxBodyBytes
        // Reserve for the announced length, but not more than 1 MiB up front: a client may
        // announce 16 MiB and send nothing, and past 1 MiB growth by doubling is cheap.
        if let expectedLength, expectedLength > 0, expectedLength <= maxBodyBytes {
            body.reserveCapacity(min(expectedLength, 1 << 20))
        }
    }

    /// Takes one piece of the upload. Returns false when the connection should be dropped:
    /// once the limit is exceeded (possible only without a `Content-Length`, i.e. chunked;
    /// an announced length over the limit is refused before the body), further pieces are
    /// discarded unbuffered so the client can still get its `413` at the end — up to
    /// another `max(maxBodyBytes, 1 MiB)`; beyond that the client is cut off.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if exceededBudget { return true }
        if let budget, body.count + bytes.count > reserved, !exceededLimit {
            let more = body.count + bytes.count - reserved
            if budget.reserve(more) {
                reserved += more
            } else {
                exceededBudget = true
                body = Data()
                return true
            }
        }
        if !exceededLimit && body.count + bytes.count <= maxBodyBytes {
            body.append(contentsOf: bytes)
            return true
        }
        if !exceededLimit {
            exceededLimit = true
            discardedBytes = body.count
            body = Data()
        }
        discardedBytes += bytes.count
        return discardedBytes - maxBodyBytes <= max(maxBodyBytes, 1 << 20)
    }

    /// Milliseconds since the headers were in.
    var elapsedMilliseconds: Double {
        let elapsed = ContinuousClock.now - started
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
