extension JSONReader {
    /// Reads a string token starting at its opening quote.
    mutating func readString() throws(Failure) -> String {
        position += 1
        let start = position
        var isASCII = true
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                let text = try makeString(start..<position, isASCII: isASCII)
                position += 1
                return text
            case UInt8(ascii: "\\"):
                return try readEscapedString(from: start)
            case 0..<0x20:
                throw Failure(offset: position, message: "control character in a string (escape it)")
            case 0x80...:
                isASCII = false
            default:
                break
            }
            position += 1
        }
        throw Failure(offset: start - 1, message: "unterminated string")
    }

    private func makeString(_ range: Range<Int>, isASCII: Bool) throws(Failure) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if isASCII {
            return String(decoding: slice, as: UTF8.self)
        }
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw Failure(offset: range.lowerBound, message: "invalid UTF-8 in a string")
        }
        return text
    }

    /// The slow path for strings with escapes: bytes are collected, then validated.
    private mutating func readEscapedString(from start: Int) throws(Failure) -> String {
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw Failure(offset: start, message: "invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try readEscape(into: &buffer)
            case 0..<0x20:
                throw Failure(offset: position, message: "control character in a string (escape it)")
            default:
                buffer.append(byte)
                position += 1
            }
        }
        throw Failure(offset: start - 1, message: "unterminated string")
    }

    /// Reads the escape after a backslash and appends its UTF-8 encoding.
    private mutating func readEscape(into buffer: inout [UInt8]) throws(Failure) {
        let escapeOffset = position - 1
        guard let byte = peek() else { throw Failure(offset: position, message: "unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var value = UInt32(try readHex4())
            if (0xD800..<0xDC00).contains(value) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count,
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw Failure(offset: escapeOffset, message: "unpaired surrogate in \\u escape")
                }
                position += 2
                let low = UInt32(try readHex4())
                guard (0xDC00..<0xE000).contains(low) else {
                    throw Failure(offset: escapeOffset, message: "unpaired surrogate in \\u escape")
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(value) {
                throw Failure(offset: escapeOffset, message: "unpaired surrogate in \\u escape")
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw Failure(offset: escapeOffset, message: "invalid \\u escape")
            }
            UTF8.encode(scalar) { buffer.append($0) }
        default:
            throw Failure(offset: escapeOffset, message: "invalid escape sequence")
        }
    }

    private mutating func readHex4() throws(Failure) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw Failure(offset: position, message: "unterminated string") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(offset: position, message: "invalid \\u escape")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
