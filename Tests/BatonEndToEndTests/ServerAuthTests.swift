import Foundation
import Testing

/// Bearer-token authentication, the loopback rule, and the token kept out of answers, logs
/// and task environments.
@Suite struct ServerAuthTests {
    static func newToken() -> String { "tok-" + UUID().uuidString.lowercased() + "-secret" }

    @Test func everyV1RequestNeedsTheRightBearerToken() async throws {
        let token = Self.newToken()
        try await withTestServer(ServerOptions(token: token)) { server in
            let client = try server.client
            let spec = Data(#"{"tasks":[{"name":"a","command":"true"}]}"#.utf8)
            let requests: [(String, String, Data?)] = [
                ("GET", "/v1/runs", nil), ("POST", "/v1/runs", spec), ("GET", "/v1/runs/abc", nil),
                ("POST", "/v1/runs/abc/cancel", nil), ("GET", "/v1/runs/abc/tasks/a/log", nil),
                ("GET", "/v1/runs/abc/graph", nil), ("POST", "/v1/runs/abc/retry", nil),
                ("GET", "/v1/workflows", nil), ("GET", "/v1/nothing-here", nil), ("DELETE", "/v1/runs", nil),
            ]
            let wrong = [
                "", "Bearer wrong", "Bearer \(token.dropLast())", "Bearer \(token)x", "Basic \(token)",
                "Bearer", "Bearer  ", "\(token)", "Bearer \(token.uppercased())",
            ]
            for (method, target, body) in requests {
                for authorization in wrong {
                    let response = try await client.request(
                        method, target, body: body, contentType: body == nil ? nil : "application/json",
                        authorization: authorization)
                    expectProblem(response, 401)
                    #expect(!response.text.contains(token), "\(method) \(target) echoed the token")
                    #expect(
                        !response.headers.contains { $0.value.contains(token) }, "\(method) \(target) header leak")
                }
            }
            let health = try await client.request("GET", "/healthz", authorization: "")
            #expect(health.status == 200)
            let healthWrong = try await client.request("GET", "/healthz", authorization: "Bearer wrong")
            #expect(healthWrong.status == 200)

            let list = try await client.get("/v1/runs")
            #expect(list.status == 200, "\(list)")
            let lowerScheme = try await client.request("GET", "/v1/runs", authorization: "bearer \(token)")
            #expect(lowerScheme.status == 200, "the auth scheme is case-insensitive (RFC 9110 §11.1)")
            let submitted = try await client.post("/v1/runs", body: spec, contentType: "application/json")
            #expect(submitted.status == 201, "\(submitted)")
            let id = try #require(try submitted.json()["id"] as? String)
            try await server.waitForRun(id)
            #expect(try await client.get("/v1/runs/\(id)").status == 200)

            let log = try server.process.stderr
            #expect(!log.isEmpty)
            #expect(!log.contains(token), "the token is in the server's log")
        }
    }

    @Test func refusesToListenOnAllInterfacesWithoutAToken() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let process = try ServerProcess(
            arguments: ["--listen", "0.0.0.0:0", "--data-dir", scratch.dataDirectory], scratch: scratch,
            environment: [:], directory: nil)
        let exit = try await process.waitForExit()
        #expect(exit.status == 2, "\(exit)")
        let lines = exit.stderr.split(separator: "\n")
        #expect(lines.contains { $0.contains("0.0.0.0") && $0.lowercased().contains("token") }, "\(exit)")
        #expect(!process.stdout.contains("listening"), "\(process.stdout)")
    }

    @Test(arguments: ["--insecure-no-auth", "--token-file"])
    func startsOnAllInterfacesWithAFlagOrAToken(flag: String) async throws {
        let token = Self.newToken()
        let options =
            flag == "--token-file"
            ? ServerOptions(token: token, listen: "0.0.0.0:0")
            : ServerOptions(listen: "0.0.0.0:0", extraArguments: ["--insecure-no-auth"])
        try await withTestServer(options) { server in
            #expect(try await server.client.request("GET", "/healthz", authorization: "").status == 200)
            let anonymous = try await server.client.request("GET", "/v1/runs", authorization: "")
            #expect(anonymous.status == (flag == "--token-file" ? 401 : 200), "\(anonymous)")
            #expect(try await server.client.get("/v1/runs").status == 200)
        }
    }

    @Test(arguments: ["file", "environment"])
    func theTokenIsNotInTaskEnvironments(source: String) async throws {
        let token = Self.newToken()
        let options =
            source == "file" ? ServerOptions(token: token) : ServerOptions(environment: ["BATON_TOKEN": token])
        try await withTestServer(options) { server in
            let client = try server.client
            #expect(try await client.request("GET", "/v1/runs", authorization: "").status == 401)
            let response = try await client.post(
                "/v1/runs",
                json: [
                    "env": ["DIR": server.scratch.directory.path],
                    "tasks": [
                        [
                            "name": "env",
                            "command": "env > \"$DIR/env.txt\"; cat /proc/$$/environ > \"$DIR/environ\"; "
                                + "cat /proc/$PPID/environ > \"$DIR/parent-environ\" 2>/dev/null; "
                                + "echo $PPID > \"$DIR/parent-pid\"",
                        ],
                        ["name": "argv", "command": ["/usr/bin/env"]],
                    ],
                ])
            #expect(response.status == 201, "\(response)")
            let id = try #require(try response.json()["id"] as? String)
            let done = try await server.waitForRun(id)
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let env = try #require(server.scratch.read("env.txt"))
            #expect(env.contains("BATON_RUN_ID=\(id)"), "the file is the task's environment")
            #expect(!env.contains("BATON_TOKEN"), "BATON_TOKEN reached a task")
            #expect(!env.contains(token), "the token reached a task")
            let environ = try Data(contentsOf: URL(fileURLWithPath: server.scratch.path("environ")))
            #expect(!String(decoding: environ, as: UTF8.self).contains(token))
            // The server itself (the task's parent): non-dumpable, so a same-user task cannot
            // read its environ, and the token's bytes are scrubbed for those who can (root).
            #expect(
                server.scratch.read("parent-pid")?.trimmingCharacters(in: .whitespacesAndNewlines)
                    == "\(try server.process.pid)")
            let parent = server.scratch.read("parent-environ") ?? ""
            #expect(!parent.contains(token), "the token is readable in the server's /proc/PID/environ")
            let argvLog = try await client.get("/v1/runs/\(id)/tasks/argv/log")
            #expect(argvLog.text.contains("BATON_TASK=argv"), "\(argvLog)")
            #expect(!argvLog.text.contains(token))
            #expect(!(try server.process.stderr.contains(token)))
        }
    }
}
