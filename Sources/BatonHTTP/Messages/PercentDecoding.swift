import Foundation

/// Why a request target (path and query) was refused; the server answers `400`.
public enum RequestTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path does not start with `/` (absolute-form or asterisk-form targets are not served).
    case notOriginForm
    /// A `%` not followed by two hexadecimal digits.
    case invalidPercentEncoding
    /// The path or query is not UTF-8, before or after percent-decoding.
    case invalidUTF8

    /// A sentence for the problem `detail`.
    public var description: String {
        switch self {
        case .notOriginForm: "The request target must be a path starting with '/'."
        case .invalidPercentEncoding: "The request target has an invalid percent-encoding."
        case .invalidUTF8: "The request target is not valid UTF-8."
        }
    }
}

/// Percent-decoding of path segments and query components (RFC 3986 §2.1).
enum PercentDecoding {
    /// Decodes `%HH` escapes, and `+` as a space when `plusAsSpace` (query strings only).
    /// Throws on a malformed escape or when the decoded bytes are not UTF-8.
    static func decode(
        _ component: Substring, plusAsSpace: Bool = false
    ) throws(RequestTargetError) -> String {
        let utf8 = component.utf8
        // Fast path: nothing to decode.
        if !utf8.contains(UInt8(ascii: "%")) && !(plusAsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(component)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let high = utf8.index(after: index)
                guard high != utf8.endIndex else { throw .invalidPercentEncoding }
                let low = utf8.index(after: high)
                guard low != utf8.endIndex,
                    let h = hexValue(utf8[high]), let l = hexValue(utf8[low])
                else { throw .invalidPercentEncoding }
                bytes.append(h << 4 | l)
                index = utf8.index(after: low)
            } else {
                bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = utf8.index(after: index)
            }
        }
        guard let decoded = validUTF8String(bytes) else { throw .invalidUTF8 }
        return decoded
    }

    /// Splits an origin-form path into percent-decoded segments: `/` gives `[]`,
    /// `/a/b%2Fc` gives `["a", "b/c"]`, `/a/` gives `["a", ""]`.
    static func segments(ofPath path: String) throws(RequestTargetError) -> [String] {
        guard path.utf8.first == UInt8(ascii: "/") else { throw .notOriginForm }
        if path.utf8.count == 1 { return [] }
        var result: [String] = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            result.append(try decode(raw))
        }
        return result
    }

    /// Parses `a=1&b=x%20y&flag` into a dictionary; the first value of a repeated key wins
    /// and a key without `=` has the value `""`.
    static func query(_ raw: Substring) throws(RequestTargetError) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                key = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                key = pair
                value = ""
            }
            let decodedKey = try decode(key, plusAsSpace: true)
            let decodedValue = try decode(value, plusAsSpace: true)
            if result[decodedKey] == nil { result[decodedKey] = decodedValue }
        }
        return result
    }

    /// The string when `bytes` are well-formed UTF-8, else nil (no replacement characters).
    static func validUTF8String(_ bytes: [UInt8]) -> String? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: return String(scalars)
            case .error: return nil
            }
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
