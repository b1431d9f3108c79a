/// JSON written straight into bytes, value by value, with the output of the API's
/// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) byte for byte: the caller writes
/// the members in sorted order. It exists for the Run document, whose 10,000 task objects
/// cost `JSONEncoder` ~100 ms per rendering in reflection, boxing and dynamic casts
/// (measured with `perf` under a polling dashboard: half of the server's CPU).
/// `RunDocumentJSONTests` compares the two encoders on awkward values.
public struct JSONBytes: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Punctuation and literal keys, e.g. `"{\"attempt\":"`, copied as they are.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                escape(byte)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    public mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)  // a small string: no allocation
    }

    public mutating func integer(_ value: (some BinaryInteger)?) {
        if let value { integer(value) } else { raw("null") }
    }

    /// As `JSONEncoder` writes a `Double`: its shortest round-tripping description, with a
    /// whole number's `.0` dropped (`1`, `0.25`, `1e-07`, `1e+16`).
    public mutating func number(_ value: Double?) {
        guard let value else { return raw("null") }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func append(_ other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `\"`, `\\`, the short escapes `JSONEncoder` uses, else `\u00XX` (lowercase hex).
    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        default:
            bytes.append(contentsOf: "u00".utf8)
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }
}
