import Foundation
import Testing

/// `GET /v1/runs/{id}` with ETags, unknown ids, and the graph.
@Suite struct ServerRunReadTests {
    @Test func etagAnswers304WhileUnchangedAnd200WithANewTagAfterAChange() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [
                    ["name": "hold", "command": "touch \"$DIR/holding\"; " + waitForFileCommand("release")]
                ]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForFile("holding")
            try await server.waitForTask(id, "hold", status: "running")

            let first = try await server.client.get("/v1/runs/\(id)")
            #expect(first.status == 200)
            let tag = try #require(first.header("ETag"), "\(first)")
            #expect(tag.hasPrefix("\"") || tag.hasPrefix("W/\""), "an entity tag is quoted: \(tag)")
            for _ in 0..<3 {
                let again = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", tag)])
                #expect(again.status == 304, "\(again)")
                #expect(again.body.isEmpty, "a 304 has no body: \(again)")
                #expect(again.header("ETag") == tag)
            }
            // A list of tags and a weak form of the same tag match too (RFC 9110 §13.1.2).
            let listed = try await server.client.get(
                "/v1/runs/\(id)", headers: [("If-None-Match", "\"nope\", \(tag)")])
            #expect(listed.status == 304, "\(listed)")
            let weak = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", "W/\(tag)")])
            #expect(weak.status == 304, "If-None-Match compares weakly: \(weak)")
            let any = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", "*")])
            #expect(any.status == 304, "\(any)")
            let other = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", "\"nope\"")])
            #expect(other.status == 200)
            #expect(other.header("ETag") == tag)

            try server.touch("release")
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded")
            let changed = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", tag)])
            #expect(changed.status == 200, "\(changed)")
            let newTag = try #require(changed.header("ETag"))
            #expect(newTag != tag)
            #expect(try changed.json()["status"] as? String == "succeeded")
            let settled = try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", newTag)])
            #expect(settled.status == 304, "\(settled)")
            #expect(settled.body.isEmpty)
        }
    }

    @Test func unknownRunIdIs404ProblemOnEveryRunRoute() async throws {
        try await withTestServer { server in
            let id = "01zzzzzzzzzzzzzzzzzzzzzzzz"
            expectProblem(try await server.client.get("/v1/runs/\(id)"), 404)
            expectProblem(try await server.client.get("/v1/runs/does-not-exist"), 404)
            expectProblem(try await server.client.post("/v1/runs/\(id)/cancel"), 404)
            expectProblem(try await server.client.get("/v1/runs/\(id)/tasks/a/log"), 404)
            expectProblem(try await server.client.get("/v1/runs/\(id)/graph"), 404)
            expectProblem(try await server.client.get("/v1/runs/\(id)", headers: [("If-None-Match", "*")]), 404)
        }
    }

    @Test func graphIsDOTWithEveryTaskAndColours() async throws {
        try await withTestServer { server in
            let names = ["build", "unit tests", "lint", "deploy \"prod\""]
            let created = try await server.submit([
                "mode": "waitall",
                "tasks": [
                    ["name": names[0], "command": "true"],
                    ["name": names[1], "command": "true", "depends_on": [names[0]]],
                    ["name": names[2], "command": "exit 1", "depends_on": [names[0]]],
                    ["name": names[3], "command": "true", "depends_on": [names[1], names[2]]],
                ],
            ])
            let id = try #require(created["id"] as? String)
            let done = try await server.waitForRun(id)
            #expect(taskStatuses(done)[names[3]] == "skipped", "\(done)")
            let graph = try await server.client.get("/v1/runs/\(id)/graph")
            #expect(graph.status == 200)
            #expect(graph.mediaType == "text/vnd.graphviz", "\(graph)")
            let dot = graph.text
            #expect(dot.contains("digraph"), "\(dot)")
            #expect(dot.contains("->"), "edges: \(dot)")
            for name in ["build", "unit tests", "lint", "deploy \\\"prod\\\""] {
                #expect(dot.contains(name), "\(name) in \(dot)")
            }
            #expect(dot.lowercased().contains("color"), "colours: \(dot)")
            // Different statuses (succeeded, failed, skipped) get different colours.
            let colours = Set(
                dot.split(separator: "\n").compactMap { line -> Substring? in
                    guard let range = line.range(of: "fillcolor=") else { return nil }
                    return line[range.upperBound...].split(separator: ",").first
                })
            #expect(colours.count >= 3, "colours \(colours) in \(dot)")
        }
    }
}
