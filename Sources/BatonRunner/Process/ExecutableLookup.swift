import Glibc

/// The `PATH` search of `execvp(3)`, done by the parent over the CHILD's environment.
///
/// `posix_spawnp(3)` would search the server's own `PATH` (glibc reads `getenv("PATH")` in
/// the parent), but a task's `PATH` is whatever its spec composed. Searching here also
/// turns "not found" and "not executable" into distinct errors before anything is forked.
enum ExecutableLookup {
    /// glibc's search path when `PATH` is unset (`confstr(_CS_PATH)`).
    static let defaultSearchPath = "/bin:/usr/bin"

    /// The path to hand to `posix_spawn(3)` for `command` (`argv[0]`).
    ///
    /// A command holding a `/` is returned as it is: `posix_spawn` resolves it after the
    /// child's `chdir`, and reports ENOENT/EACCES itself. Otherwise each `PATH` entry is
    /// tried in order, like execvp(3): the first executable regular file wins; an entry
    /// that exists but cannot be executed is remembered and the search goes on ("If
    /// permission is denied for a file ... execvp() will continue searching the rest of
    /// the search path. If no other file is found, however, it will return with errno set
    /// to EACCES."). An empty entry means the current directory, which for the child is
    /// `workingDirectory`.
    static func resolve(
        _ command: String, searchPath: String?, workingDirectory: String?
    ) throws(SpawnError) -> String {
        if command.utf8.contains(UInt8(ascii: "/")) { return command }
        var denied: String?
        for entry in (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = entry.isEmpty ? "./" + command : entry + "/" + command
            // Relative entries are relative to the child's directory, not the server's.
            let probe: String
            if let workingDirectory, !candidate.hasPrefix("/") {
                probe = workingDirectory + "/" + candidate
            } else {
                probe = candidate
            }
            switch check(probe) {
            case .executable: return candidate
            case .notExecutable: denied = denied ?? candidate
            case .missing: continue
            }
        }
        if let denied { throw .permissionDenied(denied) }
        throw .commandNotFound(command)
    }

    private enum Probe { case executable, notExecutable, missing }

    private static func check(_ path: String) -> Probe {
        var info = stat()
        guard stat(path, &info) == 0 else {
            // execvp continues past ENOENT/ENOTDIR silently and remembers EACCES (a
            // directory on the way that cannot be searched).
            return errno == EACCES ? .notExecutable : .missing
        }
        // execve(2) fails with EACCES on anything but a regular file (a directory of the
        // same name, say), and on a file without execute permission for us; access(2)
        // X_OK asks the kernel the same question, root included (root needs one x bit).
        guard info.st_mode & S_IFMT == S_IFREG, access(path, X_OK) == 0 else {
            return .notExecutable
        }
        return .executable
    }
}
