import CBatonSys
import Glibc

/// The raised priority of the threads that keep time: the executor's (starts and reaps
/// tasks) and the cron ticker's (fires on the second). When event streams, requests and
/// tasks want more CPU than there is, those wait, not the schedule.
///
/// Raising a priority needs CAP_SYS_NICE (root has it, containers often not); without it
/// every thread stays equal, as before. Tasks spawned from a raised thread run at the
/// server's own nice value (baton_spawn resets it in the child).
enum SchedulingPriority {
    /// The nice value of those threads; their work per event is small and bounded.
    static let niceness: Int32 = -5

    /// Raises the calling thread; nil when done, else why not (strerror).
    static func raiseCurrentThread() -> String? {
        baton_set_thread_nice(niceness) == 0 ? nil : String(cString: strerror(errno))
    }
}
