import CBatonSys
import Foundation

/// glibc's malloc arenas for this process.
///
/// By default each thread that allocates while another holds the lock gets an arena of its
/// own, and memory freed in one arena is not reused by another. Baton parses a run on one
/// thread and schedules it on the executor's: with two arenas, `baton run` of the 10,000-task
/// wide shape peaked at 62.5 MB RSS, with one at 53.4 MB (5 runs each, same wall time: the
/// per-thread tcache serves most small allocations without the arena's lock). A server,
/// whose request threads allocate at the same time, lost ~7 % of its GET throughput with
/// one arena, so only `baton run` uses it.
public enum MallocArenas {
    /// Limits malloc to one arena, unless `MALLOC_ARENA_MAX` is set (then glibc's reading
    /// of it stands). Call first thing, before any other thread exists.
    public static func useOne() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = baton_limit_malloc_arenas(1)
    }
}
