import CMicroHTTPD

/// Reads a connection's key/value pairs (headers, query arguments) through
/// `MHD_get_connection_values`, whose iterator gets this collector as its context pointer.
final class ConnectionValues {
    /// The pairs in the order libmicrohttpd holds them; a NULL value (a query key without
    /// `=`) is nil. Bytes that are not UTF-8 are repaired with U+FFFD.
    private(set) var pairs: [(key: String, value: String?)] = []
    /// Whether some key or value was not valid UTF-8.
    private(set) var hasInvalidUTF8 = false

    private init() {}

    /// The pairs of `kind` on `connection`. Call only from the access handler, which is
    /// where libmicrohttpd guarantees the values are valid.
    static func read(_ connection: OpaquePointer, kind: MHD_ValueKind) -> ConnectionValues {
        let collector = ConnectionValues()
        // The iterator runs synchronously inside MHD_get_connection_values, so an unretained
        // pointer to `collector` (kept alive by withExtendedLifetime) is enough.
        withExtendedLifetime(collector) {
            _ = MHD_get_connection_values(
                connection, kind,
                { cls, _, key, value in
                    guard let cls else { return .NO }
                    let collector = Unmanaged<ConnectionValues>.fromOpaque(cls).takeUnretainedValue()
                    collector.add(key: key, value: value)
                    return .YES
                },
                Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector
    }

    private func add(key: UnsafePointer<CChar>?, value: UnsafePointer<CChar>?) {
        pairs.append((convert(key) ?? "", convert(value)))
    }

    private func convert(_ string: UnsafePointer<CChar>?) -> String? {
        guard let string else { return nil }
        if let valid = String(validatingCString: string) { return valid }
        hasInvalidUTF8 = true
        return String(cString: string)
    }
}
