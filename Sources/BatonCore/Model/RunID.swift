import Foundation

/// Run identifiers: 26 lowercase Crockford base-32 characters, time-ordered like a ULID
/// (48 bits of milliseconds, 80 random bits), safe in URLs and file names.
public enum RunID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public static func generate(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(now: now) { generator.next() }
    }

    /// The same id every time for the same `key` and time (the time part from `at`, the
    /// rest from a digest of `key`): a child run is found again after a restart by naming
    /// it the same way.
    public static func derived(from key: String, at: Date) -> String {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            state ^= UInt64(byte)
            state = state &* 0x100_0000_01b3
        }
        // splitmix64 over the FNV digest: 16 well-mixed characters.
        return make(now: at) {
            state &+= 0x9e37_79b9_7f4a_7c15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
            return mixed ^ (mixed >> 31)
        }
    }

    private static func make(now: Date, next: () -> UInt64) -> String {
        var result = ""
        result.reserveCapacity(26)
        var millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var timePart = [Character](repeating: "0", count: 10)
        for position in stride(from: 9, through: 0, by: -1) {
            timePart[position] = alphabet[Int(millis & 31)]
            millis >>= 5
        }
        result.append(contentsOf: timePart)
        for _ in 0..<16 { result.append(alphabet[Int(next() & 31)]) }
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
        var hash = FNV1a()
        data.withUnsafeBytes { hash.add($0) }
        return hash.hex
    }
}
