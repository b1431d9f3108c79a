import BatonCore
import Foundation
import Testing

@Suite struct RunIDTests {
    @Test func generatedIdsAreWellFormedUniqueAndTimeOrdered() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var seen: Set<String> = []
        var previous = ""
        for step in 0..<10_000 {
            let id = RunID.generate(now: start.addingTimeInterval(Double(step) / 1000))
            #expect(RunID.isWellFormed(id), "\(id)")
            #expect(id.prefix(10) >= previous.prefix(10), "the time part sorts with time")
            previous = id
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        // All 32 symbols appear in the random part (no bit is stuck).
        let symbols = Set(seen.flatMap { $0.dropFirst(10) })
        #expect(symbols.count == 32)
    }

    /// Child runs are found again after a restart by their derived id: it must never change
    /// between versions (value computed independently, from the algorithm's description).
    @Test func derivedIdsAreStableAcrossVersions() {
        #expect(
            RunID.derived(from: "run-1/build/1", at: Date(timeIntervalSince1970: 1_800_000_000))
                == "01mcc5rm001xv04p4j8n1h2ben")
    }
}
