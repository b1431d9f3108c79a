import Foundation

// Parameters in libpq's text format: arrays for `unnest` (one statement writes many
// rows), bytea as hex, dates as float seconds.

/// PostgreSQL array literals: `{"a","b\"c",NULL}`.
enum PGArray {
    /// Every element quoted (so commas, braces and spaces in values are data), with `"` and
    /// `\` escaped; nil is NULL.
    static func literal(_ values: [String?]) -> String {
        var out = "{"
        out.reserveCapacity(values.count * 8 + 2)
        for (position, value) in values.enumerated() {
            if position > 0 { out.append(",") }
            guard let value else {
                out.append("NULL")
                continue
            }
            out.append("\"")
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { out.append("\\") }
                out.unicodeScalars.append(character)
            }
            out.append("\"")
        }
        out.append("}")
        return out
    }

    static func literal(_ values: [Int?]) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    static func literal(_ values: [Double?]) -> String {
        "{" + values.map { $0.map(PGText.double) ?? "NULL" }.joined(separator: ",") + "}"
    }

    static func literal(_ values: [Bool]) -> String {
        "{" + values.map { $0 ? "t" : "f" }.joined(separator: ",") + "}"
    }
}

enum PGText {
    /// Shortest text that reads back as the same Double (Swift's description), e.g. `1.5e-05`.
    static func double(_ value: Double) -> String { "\(value)" }

    static func seconds(_ date: Date?) -> String? { date.map { double($0.timeIntervalSince1970) } }

    static func seconds(_ date: Date) -> String { double(date.timeIntervalSince1970) }

    static func bool(_ value: Bool) -> String { value ? "t" : "f" }

    static func int<T: BinaryInteger>(_ value: T?) -> String? { value.map { String($0) } }
}

/// `bytea` in hex format: `\x` then two hex digits per byte.
enum PGBytea {
    static func encode(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 + data.count * 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        var position = 2
        for byte in data {
            out[position] = digits[Int(byte >> 4)]
            out[position + 1] = digits[Int(byte & 0x0f)]
            position += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil when `text` is not `\x` followed by an even number of hex digits.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Data? {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0
        else { return nil }
        var out = Data(count: (text.count - 2) / 2)
        var valid = true
        out.withUnsafeMutableBytes { bytes in
            for index in 0..<bytes.count {
                guard let high = nibble(text[2 + index * 2]), let low = nibble(text[3 + index * 2]) else {
                    valid = false
                    return
                }
                bytes[index] = high << 4 | low
            }
        }
        return valid ? out : nil
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
