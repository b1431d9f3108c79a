import Foundation
import Testing

/// `POST /v1/hooks/{name}` against the real `baton serve` (SPEC §4 "webhook"): real
/// GitHub-, GitLab- and Baton-style deliveries built and signed in the test, sent with
/// URLSession.
@Suite(.timeLimit(.minutes(3))) struct HooksTests {
    /// A task that copies what Baton hands it: the payload file and the event.
    static let recordingTask =
        "cat \"$BATON_WEBHOOK_PAYLOAD\" > \"$DIR/payload-$BATON_RUN_ID\"; "
        + "printf '%s' \"${BATON_WEBHOOK_EVENT-<unset>}\" > \"$DIR/event-$BATON_RUN_ID\"; "
        + "printf '%s' \"$BATON_WEBHOOK_PAYLOAD\" > \"$DIR/path-$BATON_RUN_ID\""

    /// Stores workflow `name` with a webhook secret and the recording task.
    static func storeHookWorkflow(_ server: TestServer, _ name: String, secret: String) async throws {
        try await server.storeWorkflow(
            name,
            [
                "spec": ["name": "ci \(name)", "tasks": [["name": "record", "command": recordingTask]]],
                "webhook": ["secret": secret],
            ])
    }

    /// A body with what GitHub payloads hold: nesting, unicode, escapes, a trailing newline.
    static func payload(_ marker: String = UUID().uuidString) -> Data {
        Data(
            """
            {"ref": "refs/heads/main", "after": "\(marker)", "head_commit": {"message": "fix: ünïcödé ✓ \\"quoted\\"\\nsecond line"}, "pusher": {"name": "octo cat"}}

            """.utf8)
    }

    /// Checks a `202 {"run_id", "duplicate"}` answer and returns the run id.
    static func accepted(
        _ response: HTTPResponse, duplicate: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        #expect(response.status == 202, "\(response)", sourceLocation: sourceLocation)
        #expect(response.mediaType == "application/json", "\(response)", sourceLocation: sourceLocation)
        let answer = try response.json()
        #expect(Set(answer.keys) == ["run_id", "duplicate"], "\(answer)", sourceLocation: sourceLocation)
        #expect(answer["duplicate"] as? Bool == duplicate, "\(answer)", sourceLocation: sourceLocation)
        return try #require(answer["run_id"] as? String, "\(answer)", sourceLocation: sourceLocation)
    }

    @Test func helperHMACMatchesRFC4231AndOpenSSL() async throws {
        // RFC 4231 test case 2.
        let mac = TestHMAC.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(TestHMAC.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 4231 test case 6: a key longer than the block.
        let long = TestHMAC.hmacSHA256(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(TestHMAC.hex(long) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(
            TestHMAC.hex(TestHMAC.sha256([]))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // And the README's openssl recipe, on a multi-block body.
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let body = Self.payload() + Data(String(repeating: "x", count: 200).utf8)
        let file = scratch.path("body")
        try body.write(to: URL(fileURLWithPath: file))
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/bin/sh")
        openssl.arguments = ["-c", "openssl dgst -sha256 -hmac 's3cret' < \"$1\" | sed 's/^.* //'", "sh", file]
        let pipe = Pipe()
        openssl.standardOutput = pipe
        try openssl.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        openssl.waitUntilExit()
        let expected = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(TestHMAC.signature(body, secret: "s3cret") == "sha256=" + expected)
    }

    @Test func signedGitHubDeliveryStartsARunThatSeesThePayloadAndEvent() async throws {
        try await withTestServer { server in
            let secret = "gh-secret-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "deploy", secret: secret)
            let body = Self.payload()
            let delivery = UUID().uuidString.lowercased()
            let response = try await server.hook(
                "deploy", body: body,
                headers: [
                    "X-Hub-Signature-256": TestHMAC.signature(body, secret: secret),
                    "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, "User-Agent": "GitHub-Hookshot/abc",
                ])
            let id = try Self.accepted(response, duplicate: false)

            let run = try await server.waitForRun(id)
            expectRunShape(run)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            #expect(run["workflow"] as? String == "deploy")
            #expect(run["name"] as? String == "ci deploy")
            let trigger = try #require(run["trigger"] as? [String: Any])
            #expect(trigger["type"] as? String == "webhook", "\(trigger)")
            #expect(trigger["delivery_id"] as? String == delivery, "\(trigger)")
            #expect(trigger["event"] as? String == "push", "\(trigger)")

            let copied = try #require(FileManager.default.contents(atPath: server.scratch.path("payload-\(id)")))
            #expect(copied == body, "the payload file holds the raw body, byte for byte")
            #expect(server.scratch.read("event-\(id)") == "push")
            let payloadPath = try #require(server.scratch.read("path-\(id)"))
            #expect(payloadPath.hasPrefix("/"), "BATON_WEBHOOK_PAYLOAD is an absolute path: \(payloadPath)")
            #expect(!payloadPath.contains(secret))

            // The run is listed under its workflow and is the workflow's last run.
            let runs = try await server.workflowRuns("deploy")
            #expect(runs.map { $0["id"] as? String } == [id])
            let workflow = try await server.workflow("deploy")
            #expect((workflow["last_run"] as? [String: Any])?["id"] as? String == id, "\(workflow)")
        }
    }

    @Test func batonSignatureAndGitLabTokenAreAccepted() async throws {
        try await withTestServer { server in
            let secret = "multi-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "multi", secret: secret)

            let batonBody = Self.payload("baton")
            let batonDelivery = "baton-\(UUID().uuidString)"
            let baton = try await server.hook(
                "multi", body: batonBody,
                headers: [
                    "X-Baton-Signature-256": TestHMAC.signature(batonBody, secret: secret),
                    "X-Baton-Delivery": batonDelivery,
                ])
            let batonID = try Self.accepted(baton, duplicate: false)

            let gitlabBody = Self.payload("gitlab")
            let gitlabDelivery = UUID().uuidString.lowercased()
            let gitlab = try await server.hook(
                "multi", body: gitlabBody,
                headers: [
                    "X-Gitlab-Token": secret, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": gitlabDelivery,
                ])
            let gitlabID = try Self.accepted(gitlab, duplicate: false)
            #expect(batonID != gitlabID)

            let batonRun = try await server.waitForRun(batonID)
            #expect(batonRun["status"] as? String == "succeeded", "\(batonRun)")
            let batonTrigger = batonRun["trigger"] as? [String: Any] ?? [:]
            #expect(batonTrigger["type"] as? String == "webhook")
            #expect(batonTrigger["delivery_id"] as? String == batonDelivery, "\(batonTrigger)")
            #expect(batonTrigger["event"] is NSNull, "no event header: null, not absent: \(batonTrigger)")
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(batonID)")) == batonBody)
            #expect(server.scratch.read("event-\(batonID)") == "<unset>", "no event: BATON_WEBHOOK_EVENT unset")

            let gitlabRun = try await server.waitForRun(gitlabID)
            #expect(gitlabRun["status"] as? String == "succeeded", "\(gitlabRun)")
            let gitlabTrigger = gitlabRun["trigger"] as? [String: Any] ?? [:]
            #expect(gitlabTrigger["delivery_id"] as? String == gitlabDelivery, "\(gitlabTrigger)")
            #expect(gitlabTrigger["event"] as? String == "Push Hook", "\(gitlabTrigger)")
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(gitlabID)")) == gitlabBody)
            #expect(server.scratch.read("event-\(gitlabID)") == "Push Hook")

            // Without any delivery id, every call is a new run.
            let anonymousBody = Self.payload("anonymous")
            let headers = ["X-Hub-Signature-256": TestHMAC.signature(anonymousBody, secret: secret)]
            let first = try Self.accepted(
                try await server.hook("multi", body: anonymousBody, headers: headers), duplicate: false)
            let second = try Self.accepted(
                try await server.hook("multi", body: anonymousBody, headers: headers), duplicate: false)
            #expect(first != second)
            let anonymous = try await server.waitForRun(first)
            #expect((anonymous["trigger"] as? [String: Any])?["delivery_id"] is NSNull, "\(anonymous)")
            try await server.waitForRun(second)
            #expect(try await server.workflowRuns("multi").count == 4)
        }
    }

    @Test func badSignaturesAre401AndStartNothing() async throws {
        try await withTestServer { server in
            let secret = "right-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "guarded", secret: secret)
            let body = Self.payload()
            let good = TestHMAC.signature(body, secret: secret)
            var tampered = body
            tampered[tampered.startIndex + 10] ^= 0x01
            let goodHex = String(good.dropFirst("sha256=".count))
            let cases: [(String, Data, [String: String])] = [
                ("tampered body", tampered, ["X-Hub-Signature-256": good]),
                ("tampered body, Baton header", tampered, ["X-Baton-Signature-256": good]),
                ("body with an extra byte", body + Data(" ".utf8), ["X-Hub-Signature-256": good]),
                ("wrong secret", body, ["X-Hub-Signature-256": TestHMAC.signature(body, secret: "wrong")]),
                ("secret with a suffix", body, ["X-Hub-Signature-256": TestHMAC.signature(body, secret: secret + "x")]),
                ("missing signature", body, [:]),
                ("missing signature, delivery id only", body, ["X-GitHub-Delivery": UUID().uuidString]),
                ("malformed sha256=zz", body, ["X-Hub-Signature-256": "sha256=zz"]),
                ("non-hex digits", body, ["X-Hub-Signature-256": "sha256=" + String(repeating: "zz", count: 32)]),
                ("truncated digest", body, ["X-Hub-Signature-256": "sha256=" + goodHex.dropLast(2)]),
                ("no sha256= prefix", body, ["X-Hub-Signature-256": goodHex]),
                ("sha1 algorithm", body, ["X-Hub-Signature-256": "sha1=" + goodHex]),
                ("empty signature", body, ["X-Hub-Signature-256": ""]),
                ("wrong GitLab token", body, ["X-Gitlab-Token": "nope"]),
                ("GitLab token with a suffix", body, ["X-Gitlab-Token": secret + "x"]),
                ("GitLab token prefix only", body, ["X-Gitlab-Token": String(secret.dropLast())]),
                ("the secret as a bearer token", body, ["Authorization": "Bearer \(secret)"]),
            ]
            for (label, payload, headers) in cases {
                let response = try await server.hook("guarded", body: payload, headers: headers)
                #expect(response.status == 401, "\(label): \(response)")
                expectProblem(response, 401)
                #expect(!response.text.contains(secret), "\(label): the secret leaked")
            }
            #expect(try await server.workflowRuns("guarded").isEmpty, "a refused delivery starts no run")
            // The good signature still works afterwards.
            let ok = try await server.hook("guarded", body: body, headers: ["X-Hub-Signature-256": good])
            let id = try Self.accepted(ok, duplicate: false)
            try await server.waitForRun(id)
        }
    }

    @Test func unknownHookAndWorkflowWithoutWebhookAre404PausedIs409() async throws {
        try await withTestServer { server in
            let body = Self.payload()
            let unknown = try await server.hook(
                "no-such-flow", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: "x")])
            expectProblem(unknown, 404)
            let get = try await server.client.get("/v1/hooks/no-such-flow")
            expectProblem(get, 405)
            #expect(get.header("Allow")?.contains("POST") == true, "\(get)")

            try await server.storeWorkflow("plain", ["spec": oneTaskSpec("true")])
            let plain = try await server.hook(
                "plain", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: "")])
            expectProblem(plain, 404)
            let plainToken = try await server.hook("plain", body: body, headers: ["X-Gitlab-Token": ""])
            expectProblem(plainToken, 404)
            #expect(try await server.workflowRuns("plain").isEmpty)

            let secret = "paused-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "sleepy", secret: secret)
            let pause = try await server.client.post("/v1/workflows/sleepy/pause")
            #expect(pause.status == 200, "\(pause)")
            let paused = try await server.hook(
                "sleepy", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: secret)])
            expectProblem(paused, 409)
            // A paused workflow still checks the signature first.
            let pausedBad = try await server.hook("sleepy", body: body, headers: ["X-Hub-Signature-256": "sha256=zz"])
            expectProblem(pausedBad, 401)
            #expect(try await server.workflowRuns("sleepy").isEmpty)

            // Deleted: 404 again.
            let delete = try await server.client.request("DELETE", "/v1/workflows/sleepy")
            #expect(delete.status == 204, "\(delete)")
            let deleted = try await server.hook(
                "sleepy", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: secret)])
            expectProblem(deleted, 404)
        }
    }

    @Test func repeatedDeliveryIsTheSameRunMarkedDuplicate() async throws {
        try await withTestServer { server in
            let secret = "dup-\(UUID().uuidString)"
            // The task waits, so the repeats arrive both while the run is going and after.
            try await server.storeWorkflow(
                "dedup",
                [
                    "spec": [
                        "tasks": [
                            ["name": "wait", "command": waitForFileCommand("release") + "; " + Self.recordingTask]
                        ]
                    ],
                    "webhook": ["secret": secret],
                ])
            let body = Self.payload()
            let delivery = UUID().uuidString.lowercased()
            let headers = [
                "X-Hub-Signature-256": TestHMAC.signature(body, secret: secret), "X-GitHub-Event": "push",
                "X-GitHub-Delivery": delivery,
            ]
            let id = try Self.accepted(try await server.hook("dedup", body: body, headers: headers), duplicate: false)
            try await server.waitForTask(id, "wait", status: "running")
            let again = try Self.accepted(try await server.hook("dedup", body: body, headers: headers), duplicate: true)
            #expect(again == id, "a repeated delivery answers the run it created")
            // GitHub's "redeliver" sends the same delivery id again; a GitLab UUID is its own id.
            let gitlabDelivery = UUID().uuidString.lowercased()
            let gitlabHeaders = [
                "X-Gitlab-Token": secret, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": gitlabDelivery,
            ]
            let gitlabID = try Self.accepted(
                try await server.hook("dedup", body: body, headers: gitlabHeaders), duplicate: false)
            #expect(gitlabID != id)

            try server.touch("release")
            let run = try await server.waitForRun(id)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            try await server.waitForRun(gitlabID)
            let late = try Self.accepted(try await server.hook("dedup", body: body, headers: headers), duplicate: true)
            #expect(late == id, "still the same run after it ended")
            let lateGitlab = try Self.accepted(
                try await server.hook("dedup", body: body, headers: gitlabHeaders), duplicate: true)
            #expect(lateGitlab == gitlabID)
            // A duplicate with a bad signature is still refused.
            let forged = try await server.hook(
                "dedup", body: body,
                headers: [
                    "X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64), "X-GitHub-Delivery": delivery,
                ])
            expectProblem(forged, 401)

            let runs = try await server.workflowRuns("dedup")
            #expect(Set(runs.compactMap { $0["id"] as? String }) == [id, gitlabID], "no new run for a repeat: \(runs)")
            // The payload the task saw is the first delivery's.
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(id)")) == body)
        }
    }

    @Test func concurrentRedeliveriesMakeOneRun() async throws {
        try await withTestServer { server in
            let secret = "race-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "racy", secret: secret)
            let body = Self.payload()
            let headers = [
                "X-Hub-Signature-256": TestHMAC.signature(body, secret: secret), "X-GitHub-Event": "push",
                "X-GitHub-Delivery": UUID().uuidString.lowercased(),
            ]
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for _ in 0..<8 { group.addTask { try await server.hook("racy", body: body, headers: headers) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var fresh: [String] = []
            var ids: Set<String> = []
            for answer in answers {
                #expect(answer.status == 202, "\(answer)")
                let json = try answer.json()
                ids.insert(json["run_id"] as? String ?? "?")
                if json["duplicate"] as? Bool == false { fresh.append(json["run_id"] as? String ?? "?") }
            }
            #expect(fresh.count == 1, "exactly one delivery creates the run: \(answers)")
            #expect(ids.count == 1, "every answer names the same run: \(ids)")
            let id = try #require(ids.first)
            try await server.waitForRun(id)
            #expect(try await server.workflowRuns("racy").count == 1)
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(id)")) == body)
            // The duplicates leave no payload file behind.
            let payloads = try FileManager.default.contentsOfDirectory(atPath: server.scratch.path("data/payloads"))
            #expect(payloads.count == 1, "\(payloads)")
        }
    }

    @Test func emptyBodyAndLowercaseHeaderNames() async throws {
        try await withTestServer { server in
            let secret = "lower-\(UUID().uuidString)"
            try await Self.storeHookWorkflow(server, "lower", secret: secret)
            // Raw HTTP, header names in lower case as HTTP/2 proxies forward them.
            let body = Data(#"{"zen": "Keep it logically awesome."}"#.utf8)
            let delivery = UUID().uuidString.lowercased()
            let response = try await server.client.request(
                "POST", "/v1/hooks/lower",
                headers: [
                    ("x-hub-signature-256", TestHMAC.signature(body, secret: secret)), ("x-github-event", "ping"),
                    ("x-github-delivery", delivery),
                ], body: body, contentType: "application/json")
            let id = try Self.accepted(response, duplicate: false)
            let run = try await server.waitForRun(id)
            #expect((run["trigger"] as? [String: Any])?["event"] as? String == "ping", "\(run)")
            #expect((run["trigger"] as? [String: Any])?["delivery_id"] as? String == delivery, "\(run)")
            #expect(server.scratch.read("event-\(id)") == "ping")

            // An empty body, signed: accepted, and the payload file is empty.
            let empty = try await server.hook(
                "lower", body: Data(), headers: ["X-Baton-Signature-256": TestHMAC.signature(Data(), secret: secret)])
            let emptyID = try Self.accepted(empty, duplicate: false)
            let emptyRun = try await server.waitForRun(emptyID)
            #expect(emptyRun["status"] as? String == "succeeded", "\(emptyRun)")
            #expect(FileManager.default.contents(atPath: server.scratch.path("payload-\(emptyID)")) == Data())
        }
    }

    @Test func hooksNeedNoBearerTokenAndTheSecretIsNeverShown() async throws {
        let token = "api-token-\(UUID().uuidString)"
        try await withTestServer(ServerOptions(token: token)) { server in
            let secret = "never-shown-\(UUID().uuidString)"
            let put = try await server.putWorkflow(
                "secure",
                [
                    "spec": ["tasks": [["name": "record", "command": Self.recordingTask]]],
                    "webhook": ["secret": secret],
                ])
            #expect(put.status == 201, "\(put)")
            #expect(!put.text.contains(secret), "PUT answer echoes the secret: \(put.text)")

            // The API itself still wants the token...
            let anonymous = try await server.client.request("GET", "/v1/workflows/secure", authorization: "")
            expectProblem(anonymous, 401)
            // ...but a webhook authenticates by its signature alone.
            let body = Self.payload()
            let response = try await server.hook(
                "secure", body: body,
                headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: secret), "X-GitHub-Event": "release"])
            let id = try Self.accepted(response, duplicate: false)
            let run = try await server.waitForRun(id)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            #expect(server.scratch.read("event-\(id)") == "release")
            // A wrong bearer token on a hook does not matter either; a bad signature does.
            let withWrongToken = try await server.hook(
                "secure", body: body,
                headers: [
                    "X-Hub-Signature-256": TestHMAC.signature(body, secret: secret), "Authorization": "Bearer nope",
                ])
            _ = try Self.accepted(withWrongToken, duplicate: false)
            let unsigned = try await server.hook("secure", body: body, headers: [:])
            expectProblem(unsigned, 401)
            // Nor does the API token open a hook.
            let tokenOnly = try await server.hook("secure", body: body, headers: ["Authorization": "Bearer \(token)"])
            expectProblem(tokenOnly, 401)

            for target in ["/v1/workflows/secure", "/v1/workflows", "/v1/runs/\(id)", "/v1/runs?workflow=secure"] {
                let answer = try await server.client.get(target)
                #expect(answer.status == 200, "\(target): \(answer)")
                #expect(!answer.text.contains(secret), "\(target) shows the secret: \(answer.text)")
            }
            let workflow = try await server.workflow("secure")
            #expect(
                workflow["webhook"] != nil && !(workflow["webhook"] is NSNull), "the webhook is shown, without secret")
            let stderr = try server.process.stderr
            #expect(!stderr.contains(secret), "the server log shows the secret")
        }
    }
}
