import Foundation

/// The standard `process_*` figures, read from /proc/self when scraped.
enum ProcessFigures {
    /// Resident memory in bytes (`/proc/self/statm`, field 2, in pages).
    static func residentBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Open file descriptors (entries of `/proc/self/fd`).
    static func openDescriptors() -> Double {
        Double((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0)
    }

    /// The soft limit on open file descriptors.
    static func maxDescriptors() -> Double {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Double(limit.rlim_cur)
    }

    /// When this process started, in seconds since 1970 (taken at first use, which is
    /// at server start).
    static let startTime = Date().timeIntervalSince1970
}
