import Foundation

/// Run identifiers: 26 lowercase Crockford base-32 characters, time-ordered like a ULID
/// (48 bits of milliseconds, 80 random bits), safe in URLs and file names.
public enum RunID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func generate(now: Date = Date()) -> String {
        // Two draws of the system generator (a getrandom(2) each) give the 80 random bits;
        // one draw per character had made id generation half the cost of a cron fire.
        var generator = SystemRandomNumberGenerator()
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        var drawn = 0
        return make(now: now) {
            defer { drawn += 1 }
            if drawn == 12 { bits.0 = bits.1 }
            let value = bits.0
            bits.0 >>= 5
            return value
        }
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

    /// 10 characters of milliseconds, then 16 of the low 5 bits of `next()`'s values.
    private static func make(now: Date, next: () -> UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 26)
        var millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        for position in stride(from: 9, through: 0, by: -1) {
            bytes[position] = alphabet[Int(millis & 31)]
            millis >>= 5
        }
        for position in 10..<26 { bytes[position] = alphabet[Int(next() & 31)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` has the shape of a run id (used to reject path tricks early).
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 26 && text.utf8.allSatisfy { alphabet.contains($0) }
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
