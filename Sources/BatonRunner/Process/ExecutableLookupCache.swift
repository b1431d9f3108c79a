/// Recent `PATH` searches of ``ExecutableLookup``, kept for a second.
///
/// A bare command name (`["true"]`, `["python3", ...]`) costs one stat(2) per `PATH` entry
/// before it is found, and the Swift strings around them: 8 % of the server's CPU in the
/// core benchmark's 10,000 `true` tasks. Only found executables are kept, and only for
/// ``lifetime``: a command removed meanwhile fails its exec, and the caller then searches
/// again (``forget(_:searchPath:workingDirectory:)``) instead of reporting a stale result.
/// What a second of caching can miss is a new file of the same name placed earlier in
/// `PATH`, which bash's own command hash never notices at all.
///
/// Owned by the reactor, so used from one thread only.
struct ExecutableLookupCache {
    static let lifetime: Duration = .seconds(1)
    /// At most this many commands are kept (one entry per command, PATH and directory).
    static let capacity = 256

    private struct Key: Hashable {
        var command: String
        var searchPath: String?
        var workingDirectory: String?
    }

    private var entries: [Key: (path: String, found: ContinuousClock.Instant)] = [:]

    /// The path to exec for `command` (see ``ExecutableLookup/resolve(_:searchPath:workingDirectory:)``),
    /// and whether it came from the cache.
    mutating func resolve(
        _ command: String, searchPath: String?, workingDirectory: String?, now: ContinuousClock.Instant
    ) throws(SpawnError) -> (path: String, cached: Bool) {
        if command.utf8.contains(UInt8(ascii: "/")) { return (command, false) }
        let key = Key(command: command, searchPath: searchPath, workingDirectory: workingDirectory)
        if let entry = entries[key], now - entry.found < Self.lifetime { return (entry.path, true) }
        let path = try ExecutableLookup.resolve(command, searchPath: searchPath, workingDirectory: workingDirectory)
        if entries.count >= Self.capacity {
            entries = entries.filter { now - $0.value.found < Self.lifetime }
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[key] = (path, now)
        return (path, false)
    }

    /// Drops what is kept for `command`: its exec failed, so the next search is fresh.
    mutating func forget(_ command: String, searchPath: String?, workingDirectory: String?) {
        entries[Key(command: command, searchPath: searchPath, workingDirectory: workingDirectory)] = nil
    }
}
