import BatonCore
import Foundation
import Testing

@Suite struct GraphLayoutTests {
    func spec(_ json: String) throws -> WorkflowSpec {
        try SpecParser.parse(Data(json.utf8), format: .json)
    }

    @Test func layersFollowTheLongestPathAndEveryTaskIsDrawnWithItsStatus() throws {
        let spec = try spec(
            """
            {"tasks":[{"name":"a","command":"true"},{"name":"b","command":"true","depends_on":["a"]},
            {"name":"c","command":"true","depends_on":["a","b"]},{"name":"d","command":"true"}]}
            """)
        let tasks = [
            TaskRecord(index: 0, name: "a", group: nil, status: .succeeded),
            TaskRecord(index: 1, name: "b", group: nil, status: .failed),
        ]
        let layout = GraphLayout(spec: spec, tasks: tasks, fold: false)
        #expect(layout.nodes.map(\.layer) == [0, 1, 2, 0])
        #expect(layout.nodes.map(\.status) == [.succeeded, .failed, .pending, .pending])
        #expect(layout.edges.count == 3)
        let svg = GraphSVG.render(layout, title: "demo")
        #expect(svg.components(separatedBy: "class=\"node ").count - 1 == 4)
        #expect(svg.contains("id=\"t-1\" data-task=\"b\""))
        #expect(svg.contains("class=\"node status-failed\""))
        #expect(svg.contains("✗ failed"), "status as a word and a glyph, not colour alone")
        #expect(!svg.contains("<style"), "no inline style: the console's CSP forbids it")
    }

    @Test func foldingDrawsOneNodePerGroupWithCounts() throws {
        var tasks: [String] = []
        for group in 0..<3 {
            for index in 0..<200 {
                let dependency = group > 0 ? ",\"depends_on\":[\"g\(group - 1)-\(index)\"]" : ""
                tasks.append(
                    "{\"name\":\"g\(group)-\(index)\",\"command\":\"true\",\"group\":\"g\(group)\"\(dependency)}")
            }
        }
        let groups = (0..<3).map { "{\"name\":\"g\($0)\"}" }.joined(separator: ",")
        let spec = try spec("{\"groups\":[\(groups)],\"tasks\":[\(tasks.joined(separator: ","))]}")
        let records = spec.tasks.enumerated().map { index, task in
            TaskRecord(index: index, name: task.name, group: task.group, status: index == 5 ? .failed : .succeeded)
        }
        let layout = GraphLayout(spec: spec, tasks: records, fold: true)
        #expect(layout.nodes.count == 3)
        #expect(layout.nodes.map(\.layer) == [0, 1, 2])
        #expect(layout.nodes[0].status == .failed, "a failure inside shows on the group")
        #expect(layout.nodes[0].counts[.succeeded] == 199)
        #expect(layout.edges.count == 2)
        let svg = GraphSVG.render(layout, title: "big")
        #expect(svg.contains("data-group=\"g0\""))
    }
}
