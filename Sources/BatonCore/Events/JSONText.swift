import Foundation

/// A small writer of one-line JSON objects, for live events: the payloads are flat and
/// made on every committed change, so this skips `JSONEncoder`'s reflection and boxing.
public struct JSONText: Sendable {
    private var text = "{"
    private var first = true

    public init() {}

    /// The finished object.
    public var string: String { text + "}" }

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        Self.quote(name, into: &text)
        text += ":"
    }

    public mutating func add(_ name: String, _ value: String?) {
        key(name)
        if let value { Self.quote(value, into: &text) } else { text += "null" }
    }

    public mutating func add(_ name: String, _ value: Int?) {
        key(name)
        text += value.map(String.init) ?? "null"
    }

    public mutating func add(_ name: String, _ value: Int32?) {
        add(name, value.map(Int.init))
    }

    public mutating func add(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    public mutating func add(_ name: String, _ value: Date?) {
        add(name, value.map(Timestamp.format))
    }

    /// A member whose value is already JSON.
    public mutating func add(_ name: String, json: String) {
        key(name)
        text += json
    }

    /// `{"k": n, …}` with the keys sorted.
    public static func object(_ counts: [String: Int]) -> String {
        var writer = JSONText()
        for (name, value) in counts.sorted(by: { $0.key < $1.key }) { writer.add(name, value) }
        return writer.string
    }

    /// `{"k": "v", …}` with the keys sorted.
    public static func object(strings: [String: String]) -> String {
        var writer = JSONText()
        for (name, value) in strings.sorted(by: { $0.key < $1.key }) { writer.add(name, value) }
        return writer.string
    }

    /// Appends `value` as a JSON string, escaped as the Run document's writer does
    /// (`JSONBytes`: one escaper for every JSON Baton writes by hand).
    public static func quote(_ value: String, into text: inout String) {
        var json = JSONBytes(capacity: value.utf8.count + 2)
        json.string(value)
        text += String(decoding: json.bytes, as: UTF8.self)
    }
}
