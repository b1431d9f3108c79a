/// A non-negative number with a fixed count of decimals (`12.050`), as `String(format:
/// "%.3f")` writes it but without Foundation's formatter, which showed in the profiles of
/// the access log and of `baton run`'s progress lines. Negative values print as 0.
public enum FixedPoint {
    public static func format(_ value: Double, decimals: Int) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let units = Int((max(0, value) * Double(scale)).rounded())
        guard decimals > 0 else { return String(units) }
        let fraction = String(units % scale)
        return String(units / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
