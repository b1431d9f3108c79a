import Glibc

/// Moves one child's output from its pipe to its log file, keeping at most `cap` bytes.
///
/// The file is created with the first byte of output: a silent task costs no file (file
/// creation cost more than the spawn itself in the core benchmark), and readers treat a
/// missing log as empty.
///
/// Past the cap it writes one marker line and then keeps READING and discarding: a child
/// writing into a full pipe would block forever, and "stop reading" must never be how a
/// log is capped. Write errors on the log (disk full) likewise only stop the writing.
struct LogPump {
    /// Where the output goes.
    let path: String
    /// The log file once opened (`O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC`), else -1; owned.
    private(set) var logFD: Int32 = -1
    let cap: Int
    /// Output bytes kept in the log (at most `cap`).
    private(set) var keptBytes = 0
    /// Everything written to the log, marker included: ``ChildExit/logBytes``.
    private(set) var writtenBytes = 0
    private(set) var truncated = false
    private var writeFailed = false

    init(path: String, cap: Int) {
        self.path = path
        self.cap = max(0, cap)
    }

    /// The line written once when output goes past the cap.
    static func marker(cap: Int) -> String {
        "\n[baton: log truncated at \(cap) bytes]\n"
    }

    /// Reads `pipeFD` (non-blocking) through `buffer` into the log until the pipe is empty,
    /// at EOF, or `budget` bytes were read (so one chatty child cannot starve the others,
    /// nor keep an exit from being reported). Returns false when the pipe is finished
    /// (EOF or error): the caller closes it.
    mutating func pump(from pipeFD: Int32, through buffer: UnsafeMutableRawBufferPointer, budget: Int) -> Bool {
        var remaining = budget
        while remaining > 0 {
            let count = read(pipeFD, buffer.baseAddress, buffer.count)
            if count > 0 {
                append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                remaining -= count
            } else if count == 0 {
                return false  // EOF: every writer (the child and its descendants) closed it
            } else if errno == EINTR {
                continue
            } else {
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
        }
        return true
    }

    /// Closes the log file once the attempt is over; the descriptor number is free for
    /// reuse at once, so it must not stay recorded here.
    mutating func closeLog() {
        guard logFD >= 0 else { return }
        Glibc.close(logFD)
        logFD = -1
    }

    /// Adds a chunk of output, honouring the cap.
    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard !truncated else { return }
        let room = cap - keptBytes
        let kept = min(room, chunk.count)
        if kept > 0 {
            write(UnsafeRawBufferPointer(rebasing: chunk[..<kept]))
            keptBytes += kept
        }
        if chunk.count > room {
            truncated = true
            var marker = Self.marker(cap: cap)
            marker.withUTF8 { write(UnsafeRawBufferPointer($0)) }
        }
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard !writeFailed, var next = bytes.baseAddress else { return }
        if logFD < 0 {
            guard let opened = try? ChildReactor.openLog(path) else {
                writeFailed = true
                return
            }
            logFD = opened
        }
        var left = bytes.count
        while left > 0 {
            // write(2) to a regular file may be partial (RLIMIT_FSIZE, ENOSPC on the way).
            let written = Glibc.write(logFD, next, left)
            if written > 0 {
                writtenBytes += written
                left -= written
                next += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                writeFailed = true
                return
            }
        }
    }
}
