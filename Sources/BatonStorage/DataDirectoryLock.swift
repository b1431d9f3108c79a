import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock(2)` on `<data dir>/baton.lock`, held for the life of the process:
/// two Batons on one data directory would each "resume" the other's live tasks. The
/// kernel drops the lock when the process dies, even by SIGKILL, so a crashed runner's
/// directory can be resumed at once.
public final class DataDirectoryLock: Sendable {
    private let fd: Int32

    /// Takes the lock or throws `DataDirectoryLockError.busy` naming the holder's pid.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("baton.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataDirectoryLockError.cannotOpen(path, errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw DataDirectoryLockError.busy(directory.path, holder: holder ?? "")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        self.fd = fd
    }

    deinit {
        close(fd)  // releases the lock
    }
}

/// Why the data directory could not be locked.
public enum DataDirectoryLockError: Error, CustomStringConvertible {
    case busy(String, holder: String)
    case cannotOpen(String, Int32)

    public var description: String {
        switch self {
        case .busy(let directory, let holder):
            let who = holder.isEmpty ? "another baton" : "another baton (pid \(holder))"
            return "the data directory \(directory) is in use by \(who)"
        case .cannotOpen(let path, let code):
            return "cannot open \(path): \(String(cString: strerror(code)))"
        }
    }
}
