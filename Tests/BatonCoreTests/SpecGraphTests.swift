import Foundation
import Testing

@testable import BatonCore

/// Rules between tasks: names, groups, dependencies, group order and cycles.
@Suite struct SpecGraphTests {
    private func task(_ name: String, group: String? = nil, deps: [String] = []) -> String {
        var extra: [String] = []
        if let group { extra.append("\"group\": \(SpecValue.jsonQuoted(group))") }
        if !deps.isEmpty { extra.append("\"depends_on\": [\(deps.map(SpecValue.jsonQuoted).joined(separator: ","))]") }
        return SpecTest.task(name, extra.joined(separator: ","))
    }

    private func groups(_ list: [(String, String)]) -> String {
        let items = list.map { #"{"name": "\#($0.0)", "strategy": "\#($0.1)"}"# }
        return "\"groups\": [\(items.joined(separator: ","))]"
    }

    @Test func duplicateNames() {
        let text = SpecTest.json(
            run: groups([("g", "parallel"), ("h", "parallel"), ("g", "sequential")]),
            tasks: [task("a"), task("b"), task("a"), task("a")])
        #expect(
            SpecTest.errors(text) == [
                #"groups[2].name: duplicate group name "g" (first used by groups[0])"#,
                #"tasks[2].name: duplicate task name "a" (first used by tasks[0])"#,
                #"tasks[3].name: duplicate task name "a" (first used by tasks[0])"#,
            ])
    }

    @Test func unknownGroupAndDependency() {
        let text = SpecTest.json(
            run: groups([("g", "parallel")]), tasks: [task("a", group: "nope"), task("b", deps: ["a", "x", "y"])])
        #expect(
            SpecTest.errors(text) == [
                #"tasks[0].group: unknown group "nope""#,
                #"tasks[1].depends_on[1]: unknown task "x""#,
                #"tasks[1].depends_on[2]: unknown task "y""#,
            ])
    }

    @Test func selfAndDuplicateDependencies() {
        let many = (0..<12).map { "t\($0)" }
        let text = SpecTest.json(
            tasks: many.map { task($0) } + [task("a", deps: ["a", "t1", "t1"]), task("b", deps: many + ["t3"])])
        #expect(
            SpecTest.errors(text) == [
                "tasks[12].depends_on[0]: cannot depend on itself",
                #"tasks[12].depends_on[2]: duplicate dependency "t1""#,
                #"tasks[13].depends_on[12]: duplicate dependency "t3""#,
            ])
    }

    @Test func cyclesAreListed() {
        let text = SpecTest.json(tasks: [
            task("a", deps: ["b"]), task("b", deps: ["c"]), task("c", deps: ["a"]),
            task("x", deps: ["y"]), task("y", deps: ["x", "a"]), task("ok", deps: ["a"]),
        ])
        #expect(
            SpecTest.errors(text) == [
                "tasks[0].depends_on[0]: dependency cycle: a -> b -> c -> a",
                "tasks[3].depends_on[0]: dependency cycle: x -> y -> x",
            ])
    }

    @Test func theShortestCycleThroughTheFirstTaskIsShown() {
        // One component, several cycles: the listing starts at its first task.
        let text = SpecTest.json(tasks: [
            task("d", deps: ["c"]), task("a", deps: ["b", "d"]), task("b", deps: ["c"]), task("c", deps: ["a"]),
        ])
        #expect(SpecTest.errors(text) == ["tasks[0].depends_on[0]: dependency cycle: d -> c -> a -> d"])
    }

    @Test func dependencyOnALaterGroup() {
        let text = SpecTest.json(
            run: groups([("build", "parallel"), ("deploy", "parallel")]),
            tasks: [
                task("compile", group: "build", deps: ["ship"]), task("ship", group: "deploy", deps: ["compile"]),
                task("free", deps: ["ship"]),
            ])
        #expect(
            SpecTest.errors(text) == [
                #"tasks[0].depends_on[0]: "ship" belongs to group "deploy", which runs after group "build""#
            ])
    }

    @Test func groupedTaskMayDependOnEarlierGroupsAndUngroupedTasks() {
        let text = SpecTest.json(
            run: groups([("one", "sequential"), ("two", "parallel")]),
            tasks: [
                task("u"), task("a", group: "one", deps: ["u"]), task("b", group: "one", deps: ["a"]),
                task("c", group: "two", deps: ["a", "u"]),
            ])
        #expect(SpecTest.parse(text) != nil)
    }

    @Test func dependencyOnALaterTaskOfASequentialGroup() {
        let text = SpecTest.json(
            run: groups([("seq", "sequential"), ("par", "parallel")]),
            tasks: [
                task("a", group: "seq", deps: ["b"]), task("b", group: "seq"), task("c", group: "par", deps: ["d"]),
                task("d", group: "par"),
            ])
        #expect(SpecTest.errors(text) == [#"tasks[0].depends_on[0]: "b" comes later in sequential group "seq""#])
    }

    @Test func deadlockThroughAnUngroupedTaskIsFound() {
        // a (first group) waits for u, u waits for b (second group), b waits for the first group.
        let text = SpecTest.json(
            run: groups([("first", "parallel"), ("second", "parallel")]),
            tasks: [task("a", group: "first", deps: ["u"]), task("u", deps: ["b"]), task("b", group: "second")])
        #expect(
            SpecTest.errors(text) == [
                "tasks[0].depends_on[0]: deadlock through group order: a -> u -> b -> [group first] -> a"
            ])
    }

    @Test func deadlockThroughASequentialGroupIsFound() {
        let text = SpecTest.json(
            run: groups([("seq", "sequential")]),
            tasks: [task("a", group: "seq", deps: ["u"]), task("b", group: "seq"), task("u", deps: ["b"])])
        #expect(SpecTest.errors(text) == ["tasks[0].depends_on[0]: deadlock through group order: a -> u -> b -> a"])
    }

    @Test func aHundredThousandTaskChainValidatesWithoutRecursion() throws {
        let count = 100_000
        var text = #"{"tasks":["#
        text.reserveCapacity(count * 60)
        for index in 0..<count {
            if index > 0 { text += "," }
            text +=
                index == 0
                ? #"{"name":"t0","command":"true"}"#
                : #"{"name":"t\#(index)","command":"true","depends_on":["t\#(index - 1)"]}"#
        }
        text += "]}"
        let spec = try #require(SpecTest.parse(text))
        #expect(spec.tasks.count == count)
        #expect(spec.tasks.last?.dependsOn == ["t\(count - 2)"])

        // Closing the chain into one 100,000-task cycle is found, also iteratively.
        let closed = text.replacingOccurrences(
            of: #"{"name":"t0","command":"true"}"#, with: #"{"name":"t0","command":"true","depends_on":["t99999"]}"#)
        let errors = SpecTest.errors(closed)
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("tasks[0].depends_on[0]: dependency cycle: t0 -> t99999 -> t99998 -> ") == true)
        #expect(errors.first?.hasSuffix(" -> t1 -> t0") == true)
    }

    @Test func aHundredThousandTaskLayeredSpecValidates() throws {
        let data = Self.layeredSpec(tasks: 100_000, width: 100)
        let spec = try SpecParser.parse(data, format: .json)
        #expect(spec.tasks.count == 100_000)
        #expect(spec.tasks[150].dependsOn == ["t50", "t51"])
    }

    /// Tasks in layers of `width`, each depending on two tasks of the layer before.
    static func layeredSpec(tasks count: Int, width: Int) -> Data {
        var text = #"{"name":"layers","tasks":["#
        text.reserveCapacity(count * 80)
        for index in 0..<count {
            if index > 0 { text += "," }
            text += #"{"name":"t\#(index)","command":"echo \#(index)""#
            if index >= width {
                let first = index - width
                let second = index - width + (index % width == width - 1 ? -1 : 1)
                text += #","depends_on":["t\#(first)","t\#(second)"]"#
            }
            text += "}"
        }
        text += "]}"
        return Data(text.utf8)
    }
}
