import Foundation

/// Run identifiers: 26 lowercase Crockford base-32 characters, time-ordered like a ULID
/// (48 bits of milliseconds, 80 random bits), safe in URLs and file names.
public enum RunID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public static func generate(now: Date = Date()) -> String {
        var result = ""
        result.reserveCapacity(26)
        var millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var timePart = [Character](repeating: "0", count: 10)
        for position in stride(from: 9, through: 0, by: -1) {
            timePart[position] = alphabet[Int(millis & 31)]
            millis >>= 5
        }
        result.append(contentsOf: timePart)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 { result.append(alphabet[Int(generator.next() & 31)]) }
        return result
    }

    /// Whether `text` has the shape of a run id (used to reject path tricks early).
    public static func isWellFormed(_ text: String) -> Bool {
        text.count == 26 && text.allSatisfy { alphabet.contains($0) }
    }
}

/// A short stable digest of bytes (64-bit FNV-1a, hex): identifies a spec, not a secret.
public enum ContentDigest {
    public static func hex(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
