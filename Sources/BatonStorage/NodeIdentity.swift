import Foundation

/// A node's id in a cluster, kept in `<data-dir>/node-id` so that a restarted node is the
/// same node: it resumes its own runs at once instead of waiting for their leases to
/// expire.
public enum NodeIdentity {
    public static let fileName = "node-id"

    /// Letters, digits, `.`, `_` and `-`, 1 to 64 of them (ids appear in paths and logs).
    public static func isValid(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }

    /// The id stored in `directory`, else a new one (`<hostname>-<8 hex digits>`), stored.
    ///
    /// - Throws: when the stored id is not valid, or the file cannot be written.
    public static func load(directory: URL, hostname: String = ProcessInfo.processInfo.hostName) throws -> String {
        let file = directory.appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: file.path) {
            let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard isValid(id) else { throw NodeIdentityError.invalid(path: file.path, id: id) }
            return id
        }
        let host = String(hostname.split(separator: ".").first ?? "node").filter { isValid(String($0)) }.prefix(40)
        let id = "\(host.isEmpty ? "node" : String(host))-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data((id + "\n").utf8).write(to: file, options: .atomic)
        return id
    }
}

public enum NodeIdentityError: Error, CustomStringConvertible {
    case invalid(path: String, id: String)

    public var description: String {
        switch self {
        case .invalid(let path, let id):
            return "\(path) holds \"\(id)\", not a node id (1 to 64 letters, digits, '.', '_' or '-')"
        }
    }
}
