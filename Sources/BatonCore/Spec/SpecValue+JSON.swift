import Foundation

extension SpecValue {
    /// Parses a JSON document (RFC 8259) into a value tree.
    ///
    /// A hand-written reader rather than `JSONDecoder`: it keeps booleans, integers and
    /// other numbers apart without trial decoding, keeps map members in document order,
    /// rejects duplicate keys (a silently dropped duplicate is a typo ignored), and
    /// reports syntax errors with their line and column. It is one linear pass.
    static func parseJSON(_ data: Data) throws(SpecError) -> SpecValue {
        let result = data.withUnsafeBytes { raw in
            var reader = JSONReader(bytes: raw.bindMemory(to: UInt8.self))
            return reader.readDocument()
        }
        return try result.get()
    }
}

/// A recursive-descent JSON reader over UTF-8 bytes.
struct JSONReader {
    /// A syntax error at a byte offset; rendered with line and column once, at the end.
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    /// Deeper documents are refused so that a hostile `[[[[…` cannot exhaust the stack.
    static let maxDepth = 512

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Keys already read, by fingerprint (see `readKey`).
    var keyTable = [Key?](repeating: nil, count: 256)

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func readDocument() -> Result<SpecValue, SpecError> {
        do throws(Failure) {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                position = 3  // a UTF-8 byte order mark
            }
            skipWhitespace()
            let value = try readValue(depth: 0)
            skipWhitespace()
            if position < bytes.count {
                throw Failure(offset: position, message: "\(unexpected()) after the end of the document")
            }
            return .success(value)
        } catch {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: bytes)
            return .failure(
                SpecError(path: "", message: "invalid JSON at line \(line), column \(column): \(error.message)"))
        }
    }

    private mutating func readValue(depth: Int) throws(Failure) -> SpecValue {
        guard position < bytes.count else {
            throw Failure(offset: position, message: "unexpected end of input")
        }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try readObject(depth: depth + 1)
        case UInt8(ascii: "["): return try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"):
            try readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try readLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try readNumber()
        default:
            throw Failure(offset: position, message: "\(unexpected()), expected a value")
        }
    }

    private mutating func readObject(depth: Int) throws(Failure) -> SpecValue {
        try checkDepth(depth)
        position += 1
        var members: [SpecMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        // Duplicate keys: small maps (every task) compare fingerprints; a set of keys is
        // only worth building for large ones (a big `env`), where a scan would be quadratic.
        var fingerprints: [UInt64] = []
        var keys: Set<String>?
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw Failure(offset: position, message: "\(unexpected()), expected a string key")
            }
            let keyOffset = position
            let key = try readKey()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw Failure(offset: position, message: "\(unexpected()), expected ':' after a key")
            }
            position += 1
            skipWhitespace()
            let value = try readValue(depth: depth)
            let duplicate: Bool
            if members.count < 32 {
                duplicate = fingerprints.indices.contains {
                    fingerprints[$0] == key.fingerprint && members[$0].key == key.text
                }
                fingerprints.append(key.fingerprint)
            } else {
                if keys == nil { keys = Set(members.map(\.key)) }
                duplicate = !keys!.insert(key.text).inserted
            }
            if duplicate {
                throw Failure(offset: keyOffset, message: "duplicate key \(SpecValue.jsonQuoted(key.text))")
            }
            members.append(SpecMember(key.text, value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default:
                throw Failure(offset: position, message: "\(unexpected()), expected ',' or '}'")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(Failure) -> SpecValue {
        try checkDepth(depth)
        position += 1
        var elements: [SpecValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default:
                throw Failure(offset: position, message: "\(unexpected()), expected ',' or ']'")
            }
        }
    }

    private mutating func readNumber() throws(Failure) -> SpecValue {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard isDigit(peek()) else {
            throw Failure(offset: start, message: "invalid number")
        }
        if peek() == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard isDigit(peek()) else { throw Failure(offset: start, message: "invalid number") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard isDigit(peek()) else { throw Failure(offset: start, message: "invalid number") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let value = Int(text) {
            return .int(value)
        }
        // Integers beyond Int's range become doubles; the decoder rejects them where an
        // integer is needed.
        guard let value = Double(text), value.isFinite else {
            throw Failure(offset: start, message: "number out of range")
        }
        return .double(value)
    }

    private mutating func readLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let matches =
            position + count <= bytes.count
            && (0..<count).allSatisfy { bytes[position + $0] == literal.utf8Start[$0] }
        guard matches else {
            throw Failure(offset: position, message: "\(unexpected()), expected a value")
        }
        position += count
    }

    private func checkDepth(_ depth: Int) throws(Failure) {
        if depth > Self.maxDepth {
            throw Failure(offset: position, message: "nested more than \(Self.maxDepth) levels deep")
        }
    }

    func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while isDigit(peek()) { position += 1 }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    /// Describes the byte at the current position for an error message.
    func unexpected() -> String {
        guard let byte = peek() else { return "unexpected end of input" }
        if byte >= 0x20 && byte < 0x7F {
            return "unexpected character '\(Character(Unicode.Scalar(byte)))'"
        }
        return "unexpected byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    /// 1-based line and column (in Unicode scalars) of a byte offset.
    static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        var line = 1
        var column = 1
        for byte in bytes[0..<min(offset, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
