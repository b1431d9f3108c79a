import CMicroHTTPD
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The C callbacks handed to libmicrohttpd. They capture nothing: the ``ServerContext``
/// arrives as `cls` (unretained; the server outlives the daemon) and each request's
/// ``RequestAccumulator`` as `*req_cls` (retained by the access handler's first call,
/// released by `requestCompleted`).
enum MHDCallbacks {
    /// MHD_AccessHandlerCallback. libmicrohttpd calls it once when the headers are in
    /// (`*req_cls == NULL`), once per piece of body (`*upload_data_size > 0`), and once more
    /// when the request is complete; a response may be queued on the first and last calls
    /// only ("the response cannot be queued when this callback is called to process the
    /// client upload data").
    static func accessHandler(
        cls: UnsafeMutableRawPointer?,
        connection: OpaquePointer?,
        url: UnsafePointer<CChar>?,
        method: UnsafePointer<CChar>?,
        version: UnsafePointer<CChar>?,
        uploadData: UnsafePointer<CChar>?,
        uploadDataSize: UnsafeMutablePointer<Int>?,
        requestState: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> MHD_Result {
        guard let cls, let connection, let uploadDataSize, let requestState else { return .NO }
        let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()

        guard let state = requestState.pointee else {
            // First call: only the headers are in, so the head deadline no longer applies.
            context.headDeadline.headArrived(connection)
            let accumulator = context.begin(connection: connection, url: url, method: method, version: version)
            requestState.pointee = Unmanaged.passRetained(accumulator).toOpaque()
            if let early = context.earlyResponse(for: accumulator) {
                return context.queue(early, on: connection, for: accumulator)
            }
            return .YES
        }
        let accumulator = Unmanaged<RequestAccumulator>.fromOpaque(state).takeUnretainedValue()

        if uploadDataSize.pointee > 0 {
            let piece = UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee)
            let keepGoing = accumulator.append(piece)
            uploadDataSize.pointee = 0  // all consumed (kept or discarded)
            return keepGoing ? .YES : .NO
        }

        // Last call: the whole request is in (or a suspended long-poll was resumed). This
        // runs the handler on this worker thread.
        return context.answer(accumulator, on: connection)
    }

    /// MHD_RequestCompletedCallback: releases the request's accumulator and logs the
    /// request. Called for every request the access handler saw, however it ended.
    static func requestCompleted(
        cls: UnsafeMutableRawPointer?,
        connection: OpaquePointer?,
        requestState: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
        termination: MHD_RequestTerminationCode
    ) {
        guard let requestState, let state = requestState.pointee else { return }
        requestState.pointee = nil
        let accumulator = Unmanaged<RequestAccumulator>.fromOpaque(state).takeRetainedValue()
        guard let cls else { return }
        let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
        // A kept-alive connection waits for its next request head from now on.
        if let connection { context.headDeadline.awaitHead(connection) }
        context.complete(accumulator, termination: termination)
    }

    /// MHD_NotifyConnectionCallback: a connection opened (its first request head is now
    /// awaited) or closed.
    static func connectionNotified(
        cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, code: MHD_ConnectionNotificationCode
    ) {
        guard let cls, let connection else { return }
        let deadline = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().headDeadline
        if code == .CONNECTION_NOTIFY_STARTED {
            deadline.awaitHead(connection)
        } else {
            deadline.closed(connection)
        }
    }

    /// MHD_LogCallback: formats libmicrohttpd's message and records it.
    static func log(cls: UnsafeMutableRawPointer?, format: UnsafePointer<CChar>?, arguments: CVaListPointer?) {
        guard let cls, let format, let arguments else { return }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let written = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { vsnprintf($0.baseAddress, $0.count, format, arguments) }
        }
        // vsnprintf reports the untruncated length; the buffer holds at most count - 1 bytes.
        let length = min(max(Int(written), 0), buffer.count - 1)
        let message = String(decoding: buffer[..<length], as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().recordLibraryMessage(message)
    }
}
