import CBatonSys

/// What `baton serve` does to itself so its tasks cannot read its secrets: tasks run as the
/// same user, and a same-user process may read `/proc/$PPID/environ` of a dumpable parent.
public enum ProcessHardening {
    /// Makes this process non-dumpable (`PR_SET_DUMPABLE 0`: its /proc files belong to
    /// root, so the tasks cannot read its environment or memory) and scrubs `names` from
    /// its environment, bytes included. Returns false when prctl failed (logged by the
    /// caller; the scrub happens anyway).
    @discardableResult
    public static func protectSecrets(_ names: [String]) -> Bool {
        for name in names { baton_scrub_environment(name) }
        return baton_set_dumpable(0) == 0
    }
}
