import Foundation
import Testing

/// `GET /v1/runs/{id}` of a big run is rendered incrementally (only changed tasks are
/// re-encoded): it must never serve a stale document. The tasks are released one by one;
/// whenever the database holds still around a poll, the poll must say exactly what the
/// database says, and one ETag must always mean one body.
@Suite struct ServerRunRenderingTests {
    static let taskCount = 100

    /// name → "status/attempt/exit_code/has-reason" as stored.
    func storedTasks(_ server: TestServer, _ id: String) throws -> [String: String] {
        let rows = try server.scratch.query(
            "SELECT name, status, attempt, exit_code, reason FROM tasks WHERE run_id = '\(id)'")
        var tasks: [String: String] = [:]
        for row in rows {
            guard let name = row["name"] as? String else { continue }
            tasks[name] = Self.digest(
                status: row["status"], attempt: row["attempt"], exitCode: row["exit_code"], reason: row["reason"])
        }
        return tasks
    }

    /// The same digest of the tasks of a polled document.
    func polledTasks(_ document: [String: Any]) -> [String: String] {
        var tasks: [String: String] = [:]
        for case let task as [String: Any] in document["tasks"] as? [Any] ?? [] {
            guard let name = task["name"] as? String else { continue }
            tasks[name] = Self.digest(
                status: task["status"], attempt: task["attempt"], exitCode: task["exit_code"], reason: task["reason"])
        }
        return tasks
    }

    static func digest(status: Any?, attempt: Any?, exitCode: Any?, reason: Any?) -> String {
        let code = (exitCode as? Int).map(String.init) ?? "-"
        return "\(status as? String ?? "?")/\(attempt as? Int ?? -1)/\(code)/\(reason is String)"
    }

    @Test func pollsWhileTasksChangeAlwaysMatchTheStoredState() async throws {
        try await withTestServer(ServerOptions(workers: 4)) { server in
            let tasks: [[String: Any]] = (0..<Self.taskCount).map { index in
                let finish = index % 7 == 3 ? "exit 3" : "true"
                return ["name": "t\(index)", "command": waitForFileCommand("go-\(index)") + "; " + finish]
            }
            let created = try await server.submit(["mode": "waitall", "tasks": tasks])
            let id = try #require(created["id"] as? String)

            var bodiesByTag: [String: Data] = [:]
            var tag: String?
            var document: [String: Any] = [:]
            var comparisons = 0
            func poll() async throws {
                let response = try await server.client.get(
                    "/v1/runs/\(id)", headers: tag.map { [("If-None-Match", $0)] } ?? [])
                let newTag = try #require(response.header("ETag"))
                if response.status == 304 {
                    #expect(newTag == tag, "a 304 carries the tag it matched")
                    return
                }
                #expect(response.status == 200, "\(response)")
                if let earlier = bodiesByTag[newTag] {
                    #expect(earlier == response.body, "one ETag, two different bodies")
                }
                bodiesByTag[newTag] = response.body
                tag = newTag
                document = try response.json()
            }

            for index in 0..<16 {
                try server.touch("go-\(index)")
                var released = false
                for _ in 0..<1000 where !released {
                    let before = try storedTasks(server, id)
                    try await poll()
                    let after = try storedTasks(server, id)
                    guard before == after else { continue }  // the state moved during the poll
                    let polled = polledTasks(document)
                    let differing = before.keys.filter { polled[$0] != before[$0] }.sorted()
                    #expect(
                        differing.isEmpty && polled.count == before.count,
                        "polled vs stored: \(differing.map { "\($0): \(polled[$0] ?? "absent") vs \(before[$0] ?? "")" })"
                    )
                    comparisons += 1
                    released =
                        !(before["t\(index)"] ?? "").hasPrefix("running")
                        && !(before["t\(index)"] ?? "").hasPrefix("pending")
                }
                #expect(released, "t\(index) never finished")
            }
            for index in 16..<Self.taskCount { try server.touch("go-\(index)") }
            let finished = try await server.waitForRun(id)
            #expect(finished["status"] as? String == "failed", "exit 3 fails those tasks")
            try await poll()
            #expect(polledTasks(document) == (try storedTasks(server, id)))
            #expect(comparisons >= 16)
            #expect(bodiesByTag.count > 16, "each release changed the document")
        }
    }
}
