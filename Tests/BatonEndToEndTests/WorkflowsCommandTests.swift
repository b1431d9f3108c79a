import Foundation
import Testing

/// `baton workflows put/list/show/run/pause/resume/delete` against a real `baton serve`.
@Suite(.timeLimit(.minutes(3))) struct WorkflowsCommandTests {
    @Test func workflowLifecycleThroughTheCLI() async throws {
        try await withTestServer { server in
            let file = try server.scratch.writeSpec(
                ["name": "nightly", "tasks": [["name": "greet", "command": "echo stage=$STAGE"]]])
            let put = try await ClientCommandTests.client(
                server,
                [
                    "workflows", "put", "nightly", file, "--cron", "0 3 * * *", "--timezone", "Europe/Paris",
                    "--webhook-secret", "s3cret",
                ])
            #expect(put.status == 0, "\(put)")
            #expect(put.stdout.contains("created nightly"), "\(put)")

            let list = try await ClientCommandTests.client(server, ["workflows", "list"])
            #expect(list.status == 0, "\(list)")
            #expect(list.stdout.contains("nightly  active  0 3 * * *"), "\(list)")

            let show = try await ClientCommandTests.client(server, ["workflows", "show", "nightly"])
            #expect(show.status == 0, "\(show)")
            #expect(!show.stdout.contains("s3cret"), "the webhook secret is never shown: \(show)")
            let workflow = try #require(
                try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            #expect((workflow["next_runs"] as? [String])?.count == 5, "\(workflow)")

            let run = try await ClientCommandTests.client(
                server, ["workflows", "run", "nightly", "--env", "STAGE=test", "--wait"])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("succeeded"), "\(run)")
            let runs = try await server.client.get("/v1/runs?workflow=nightly")
            let body = try #require(try JSONSerialization.jsonObject(with: runs.body) as? [String: Any])
            let id = try #require(((body["runs"] as? [[String: Any]])?.first)?["id"] as? String)
            let log = try await ClientCommandTests.client(server, ["logs", id, "greet"])
            #expect(log.stdout == "stage=test\n", "\(log)")

            let pause = try await ClientCommandTests.client(server, ["workflows", "pause", "nightly"])
            #expect(pause.status == 0, "\(pause)")
            let paused = try await ClientCommandTests.client(server, ["workflows", "list"])
            #expect(paused.stdout.contains("nightly  paused"), "\(paused)")
            let resume = try await ClientCommandTests.client(server, ["workflows", "resume", "nightly"])
            #expect(resume.status == 0, "\(resume)")

            let delete = try await ClientCommandTests.client(server, ["workflows", "delete", "nightly"])
            #expect(delete.status == 0, "\(delete)")
            let gone = try await ClientCommandTests.client(server, ["workflows", "show", "nightly"])
            #expect(gone.status == 6, "not found: \(gone)")
        }
    }
}
