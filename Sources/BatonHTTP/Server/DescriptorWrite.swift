import Foundation

/// Whole writes to a descriptor that may be a pipe, a terminal or non-blocking: the server's
/// log lines and `baton run`'s progress and JSON.
public enum DescriptorWrite {
    /// Writes every byte, waiting out EINTR and EAGAIN (a non-blocking descriptor); any
    /// other failure (a closed reader) drops the rest: there is nowhere to report it.
    public static func all(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let written = write(descriptor, rest.baseAddress, rest.count)
            if written > 0 {
                rest = UnsafeRawBufferPointer(rebasing: rest[written...])
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EAGAIN {
                var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, 1000)
            } else {
                return
            }
        }
    }

    public static func all(_ descriptor: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { all(descriptor, $0) }
    }
}
