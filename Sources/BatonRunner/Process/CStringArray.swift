import Glibc

/// A NULL-terminated array of C strings for `argv`/`envp` of `posix_spawn(3)`, built
/// without Foundation and in ONE allocation (the pointer array, then the bytes), so a
/// spawn costs two allocations for argv and envp together however many strings they hold.
struct CStringArray: ~Copyable {
    /// `char *const []`, terminated by NULL, valid until `self` is destroyed.
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let storage: UnsafeMutableRawPointer

    /// `argv`: each argument as it is. A NUL byte would silently cut an argument short in
    /// the child, so it is an error.
    init(arguments: [String]) throws(SpawnError) {
        var bytes = 0
        for argument in arguments { bytes += argument.utf8.count + 1 }
        // Locals first: `self` is initialised only once nothing can throw, so an error
        // never runs `deinit` on a half-built value.
        let (storage, table) = Self.allocate(count: arguments.count, bytes: bytes)
        var writer = Writer(pointers: table, cursor: storage + Self.tableSize(arguments.count))
        for argument in arguments {
            guard writer.add(argument, nil) else {
                storage.deallocate()
                throw .invalidArgument("argument \(Self.quoted(argument)) contains a NUL byte")
            }
        }
        writer.finish()
        self.storage = storage
        self.pointers = table
    }

    /// `envp`: one `NAME=value` string per entry. Names must be non-empty and hold no `=`;
    /// neither names nor values may hold NUL.
    init(environment: [String: String]) throws(SpawnError) {
        var bytes = 0
        for (name, value) in environment { bytes += name.utf8.count + value.utf8.count + 2 }
        let (storage, table) = Self.allocate(count: environment.count, bytes: bytes)
        var writer = Writer(pointers: table, cursor: storage + Self.tableSize(environment.count))
        for (name, value) in environment {
            guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "=")), writer.add(name, value)
            else {
                storage.deallocate()
                throw .invalidArgument(
                    "environment variable \(Self.quoted(name)) has an invalid name or value")
            }
        }
        writer.finish()
        self.storage = storage
        self.pointers = table
    }

    deinit {
        storage.deallocate()
    }

    private static func tableSize(_ count: Int) -> Int {
        (count + 1) * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride
    }

    private static func allocate(
        count: Int, bytes: Int
    ) -> (UnsafeMutableRawPointer, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: tableSize(count) + bytes,
            alignment: MemoryLayout<UnsafeMutablePointer<CChar>?>.alignment)
        let table = storage.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: count + 1)
        return (storage, table)
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingNULs() + "\""
    }

    /// Copies strings into the byte area and records where each starts.
    private struct Writer {
        var pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
        var cursor: UnsafeMutableRawPointer
        var index = 0

        /// Appends `first`, then `=second` when given, then NUL. False on an embedded NUL.
        mutating func add(_ first: String, _ second: String?) -> Bool {
            let start = cursor
            guard append(first) else { return false }
            if let second {
                cursor.storeBytes(of: UInt8(ascii: "="), as: UInt8.self)
                cursor += 1
                guard append(second) else { return false }
            }
            cursor.storeBytes(of: 0, as: UInt8.self)
            cursor += 1
            pointers[index] = start.assumingMemoryBound(to: CChar.self)
            index += 1
            return true
        }

        mutating func finish() {
            pointers[index] = nil
        }

        private mutating func append(_ text: String) -> Bool {
            var text = text  // withUTF8 is mutating: it may first make a bridged string native
            let destination = cursor
            let copied: Int? = text.withUTF8 { source in
                guard let base = source.baseAddress, source.count > 0 else { return 0 }
                if memchr(base, 0, source.count) != nil { return nil }
                destination.copyMemory(from: base, byteCount: source.count)
                return source.count
            }
            guard let copied else { return false }
            cursor += copied
            return true
        }
    }
}

extension String {
    /// For error messages: a NUL shown as `\0` rather than cutting the text.
    fileprivate func replacingNULs() -> String {
        guard utf8.contains(0) else { return self }
        return split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0")
    }
}
