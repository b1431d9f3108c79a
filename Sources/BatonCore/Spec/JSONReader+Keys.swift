extension JSONReader {
    /// A map key and a fingerprint of its bytes.
    struct Key {
        var text: String
        var fingerprint: UInt64
    }

    /// Reads a map key starting at its opening quote.
    ///
    /// The same keys come back in every task, so each distinct key becomes a `String`
    /// once and is shared afterwards: no allocation per key (keys over 15 bytes would
    /// need one), and the fingerprint turns the duplicate-key check into integer compares.
    mutating func readKey() throws(Failure) -> Key {
        let start = position + 1
        var fingerprint: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") || byte < 0x20 {
                // Escapes (or an error): the general reader, and a fingerprint of the result.
                let text = try readString()
                return Key(text: text, fingerprint: Self.fingerprint(of: text))
            }
            fingerprint = (fingerprint ^ UInt64(byte)) &* 0x100_0000_01B3
            end += 1
        }
        let slot = Int(truncatingIfNeeded: fingerprint) & (keyTable.count - 1)
        if end < bytes.count, let cached = keyTable[slot], cached.fingerprint == fingerprint,
            cached.text.utf8.elementsEqual(bytes[start..<end])
        {
            position = end + 1
            return cached
        }
        let key = Key(text: try readString(), fingerprint: fingerprint)
        keyTable[slot] = key
        return key
    }

    static func fingerprint(of text: String) -> UInt64 {
        var fingerprint: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            fingerprint = (fingerprint ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return fingerprint
    }
}
