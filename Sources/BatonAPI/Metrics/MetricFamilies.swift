import Foundation
import Synchronization

/// A counter family: one monotonically increasing value per label set. Label values are
/// closed sets chosen by the code, never ids (Prometheus: bounded cardinality).
final class CounterFamily: Sendable {
    let name: String
    let help: String
    let labelNames: [String]
    private let values: Mutex<[[String]: Double]>

    /// `known`: label sets exported as 0 before they first move.
    init(_ name: String, _ help: String, labels: [String] = [], known: [[String]] = []) {
        self.name = name
        self.help = help
        labelNames = labels
        var initial: [[String]: Double] = [:]
        for labelValues in known { initial[labelValues] = 0 }
        if labels.isEmpty { initial[[]] = 0 }
        values = Mutex(initial)
    }

    func increment(_ labelValues: [String] = [], by amount: Double = 1) {
        values.withLock { $0[labelValues, default: 0] += amount }
    }

    func value(_ labelValues: [String] = []) -> Double {
        values.withLock { $0[labelValues] ?? 0 }
    }

    func render(into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
        let snapshot = values.withLock { $0 }
        for (labelValues, value) in snapshot.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            text += name + MetricText.labels(labelNames, labelValues) + " " + MetricText.number(value) + "\n"
        }
    }
}

/// A histogram without labels: cumulative buckets, sum and count.
final class Histogram: Sendable {
    let name: String
    let help: String
    let bounds: [Double]
    private let state: Mutex<(buckets: [UInt64], sum: Double, count: UInt64)>

    init(_ name: String, _ help: String, buckets: [Double]) {
        self.name = name
        self.help = help
        bounds = buckets.sorted()
        state = Mutex((buckets: [UInt64](repeating: 0, count: buckets.count), sum: 0, count: 0))
    }

    func observe(_ value: Double) {
        let value = max(0, value)
        state.withLock { state in
            if let index = bounds.firstIndex(where: { value <= $0 }) { state.buckets[index] += 1 }
            state.sum += value
            state.count += 1
        }
    }

    var count: UInt64 { state.withLock { $0.count } }

    func render(into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        let snapshot = state.withLock { $0 }
        var cumulative: UInt64 = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += snapshot.buckets[index]
            text += "\(name)_bucket{le=\"\(MetricText.number(bound))\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(snapshot.count)\n"
        text += "\(name)_sum \(MetricText.number(snapshot.sum))\n\(name)_count \(snapshot.count)\n"
    }
}

/// Gauges read when scraped, from in-memory figures (never the database).
struct GaugeFamily: Sendable {
    let name: String
    let help: String
    let labelNames: [String]
    let read: @Sendable () -> [([String], Double)]

    init(_ name: String, _ help: String, labels: [String] = [], read: @escaping @Sendable () -> [([String], Double)]) {
        self.name = name
        self.help = help
        labelNames = labels
        self.read = read
    }

    /// A gauge without labels.
    init(_ name: String, _ help: String, value: @escaping @Sendable () -> Double) {
        self.init(name, help, read: { [([], value())] })
    }

    func render(into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for (labelValues, value) in read() {
            text += name + MetricText.labels(labelNames, labelValues) + " " + MetricText.number(value) + "\n"
        }
    }
}

/// The Prometheus text exposition format, version 0.0.4.
enum MetricText {
    static func labels(_ names: [String], _ values: [String]) -> String {
        guard !names.isEmpty else { return "" }
        let pairs = zip(names, values).map { name, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(escaped)\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
