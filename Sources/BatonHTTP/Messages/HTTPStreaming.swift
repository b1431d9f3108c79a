/// What a streamed body has for the connection right now.
public enum StreamChunk: Sendable, Equatable {
    /// This many bytes were written into the buffer (at least 1).
    case bytes(Int)
    /// Nothing yet: the connection is suspended until the stream's waker is woken.
    case wait
    /// The stream is over; the server ends the chunked body.
    case end
}

/// A response body of unknown length written as it becomes available (Server-Sent
/// Events), sent with chunked transfer encoding. No thread waits for it: when it has
/// nothing, the connection is suspended and resumed by ``ConnectionWaker/wake()``.
public protocol HTTPBodyStream: AnyObject, Sendable {
    /// Called once on the worker thread before the first ``read(into:)``, with the handle
    /// that resumes the connection. Keep it and call `wake()` when data arrives.
    func attach(_ waker: ConnectionWaker)
    /// Worker thread: fill `buffer` (at most its count) or say `wait` or `end`. Also called
    /// after the server started stopping (``ConnectionWaker/isClosing``): then end soon.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamChunk
    /// The request is over (client gone, stream ended, server stopped); no more reads.
    func close()
}

/// A response that is not ready yet (a long-poll): the connection is suspended, and each
/// ``ConnectionWaker/wake()`` asks ``reply(closing:)`` again.
public protocol HTTPDeferredReply: AnyObject, Sendable {
    /// Called once on the worker thread before the first ``reply(closing:)``.
    func attach(_ waker: ConnectionWaker)
    /// The answer once ready, or nil to go on waiting. With `closing` (the server stops)
    /// it must answer.
    func reply(closing: Bool) -> HTTPResponse?
    /// The request is over; drop any registration.
    func close()
}
