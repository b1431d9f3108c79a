import CMicroHTTPD

/// The context of a streamed response's content-reader callback (retained by the response,
/// released by its free callback): asks the stream for bytes and suspends the connection
/// while it has none.
final class StreamReader {
    let stream: any HTTPBodyStream
    let waker: ConnectionWaker

    init(stream: any HTTPBodyStream, waker: ConnectionWaker) {
        self.stream = stream
        self.waker = waker
    }

    /// MHD_ContentReaderCallback: bytes written, 0 after suspending (libmicrohttpd calls
    /// again once resumed; returning 0 without suspending would spin), or an end marker.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            switch stream.read(into: buffer) {
            case .bytes(let count):
                return count
            case .end:
                return baton_mhd_stream_end()
            case .wait:
                if waker.isClosing { return baton_mhd_stream_end() }
                if waker.suspendUnlessWoken() { return 0 }
            }
        }
    }
}
