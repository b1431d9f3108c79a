#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`), which caps concurrent connections
/// (and running tasks: each holds two descriptors, its output pipe and its pidfd).
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit and returns the resulting soft limit, or nil
    /// when it cannot be read. A refused raise keeps the old soft limit.
    public static func raiseToHardLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            // An unlimited hard limit still cannot exceed fs.nr_open (default 2^20).
            raised.rlim_cur = limit.rlim_max == rlim_t.max ? 1 << 20 : limit.rlim_max
            if setrlimit(resource, &raised) == 0 {
                limit = raised
            }
        }
        return UInt64(limit.rlim_cur)
    }

    #if canImport(Glibc)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
