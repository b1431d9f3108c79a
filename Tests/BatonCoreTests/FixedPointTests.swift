import BatonCore
import Testing

@Suite struct FixedPointTests {
    @Test func writesFixedDecimalsLikePrintf() {
        #expect(FixedPoint.format(0, decimals: 2) == "0.00")
        #expect(FixedPoint.format(0.05, decimals: 2) == "0.05")
        #expect(FixedPoint.format(1.5, decimals: 2) == "1.50")
        #expect(FixedPoint.format(1234.5678, decimals: 3) == "1234.568")
        #expect(FixedPoint.format(7.4, decimals: 0) == "7")
        #expect(FixedPoint.format(-3, decimals: 1) == "0.0", "durations are never negative")
    }
}
