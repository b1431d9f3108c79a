import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A response body read from an open file by libmicrohttpd as the client takes it, so a
/// large log costs no memory however slowly it is read. Owns the descriptor: closed when
/// this goes away, unless the server took it over for a queued response.
public final class FileBody: @unchecked Sendable {
    // @unchecked Sendable: `fd` is given up once, by the worker thread queuing the answer.
    private var fd: Int32
    /// First byte sent and how many.
    public let offset: Int
    public let length: Int

    /// Opens `path` and sends from `offset` to the size it has now; nil when it cannot be
    /// opened. The length is fixed here: bytes appended later are not sent.
    public init?(path: String, offset: Int) {
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { return nil }
        var status = stat()
        guard fstat(opened, &status) == 0 else {
            close(opened)
            return nil
        }
        fd = opened
        let size = Int(status.st_size)
        self.offset = min(max(0, offset), size)
        length = size - self.offset
    }

    /// The file's size when opened.
    public var size: Int { offset + length }

    /// Hands the descriptor to libmicrohttpd, which closes it.
    func takeDescriptor() -> Int32 {
        defer { fd = -1 }
        return fd
    }

    deinit {
        if fd >= 0 { close(fd) }
    }
}
